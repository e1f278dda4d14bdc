/**
 * The scriptlet editor: the installed scriptlet (or an example) in a code editor, tested against
 * the live cluster without installing it, then installed. Errors are marked on their line.
 */
import { useRef, useState } from "preact/hooks";
import { Action } from "../components/Action.tsx";
import { CodeEditor, type EditorHandle } from "../components/CodeEditor.tsx";
import { messageOf, Notice } from "../components/Notice.tsx";
import { PlacementAnswerView, type PlacementAnswer } from "../components/PlacementAnswer.tsx";
import { emptyRequest, placementBody, requestProblem, RequestFields, type RequestValues } from "../components/RequestFields.tsx";
import { ApiError } from "../api.ts";
import { useCluster, useSession } from "../context.ts";
import { EXAMPLES } from "../examples.ts";

const KEY = "instances.placement.scriptlet";

const STARTER = `// Called with the instance request and the candidates, best first.
function instance_placement(request, candidate_members) {
  log_info("placing ", request.name, " reason=", request.reason);
  // set_target(candidate_members[0].server_name); // choose one
  // return "why not";                             // refuse
}
`;

/** Where an error points: the envelope's {line, column}, or "(line L:C)" in its message. */
export function errorLocation(err: unknown): { line: number; column: number | null } | null {
  if (err instanceof ApiError && err.details && typeof err.details === "object") {
    const { line, column } = err.details as { line?: unknown; column?: unknown };
    if (typeof line === "number") return { line, column: typeof column === "number" ? column : null };
  }
  const m = /line (\d+)(?::(\d+))?/.exec(err instanceof Error ? err.message : String(err ?? ""));
  return m ? { line: Number(m[1]), column: m[2] ? Number(m[2]) : null } : null;
}

type Result =
  | { kind: "tested"; answer: PlacementAnswer; target: string }
  | { kind: "installed"; message: string }
  | { kind: "error"; message: string; line: number | null };

export function ScriptletPage() {
  const { api, cluster, readOnly } = useSession();
  const { server } = useCluster();
  const installed = String(server?.config[KEY] ?? "");
  const editor = useRef<EditorHandle | null>(null);
  const [text, setText] = useState(installed || STARTER);
  const [values, setValues] = useState<RequestValues>({ ...emptyRequest("web1"), cpu: "1", memory: "1GiB" });
  const [result, setResult] = useState<Result | null>(null);
  const [busy, setBusy] = useState<"test" | "install" | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const strategy = String(server?.effective_config["scheduler.strategy"] ?? "count");
  const dirty = text !== installed;
  const edited = text !== (installed || STARTER);

  const fail = (err: unknown) => {
    const at = errorLocation(err);
    if (at) editor.current?.markError(at.line, at.column, messageOf(err));
    setResult({ kind: "error", message: messageOf(err), line: at?.line ?? null });
  };

  const test = async () => {
    const problem = requestProblem(values);
    if (problem) return setResult({ kind: "error", message: problem, line: null });
    setBusy("test");
    setResult(null);
    editor.current?.clearError();
    try {
      const answer = await api.call<PlacementAnswer>("POST", "/1.0/scheduler/scriptlet/test", { ...placementBody(values), source: text });
      setResult({ kind: "tested", answer, target: values.target });
      const at = answer.scriptlet.error ? errorLocation(new Error(answer.scriptlet.error)) : null;
      if (at) editor.current?.markError(at.line, at.column, answer.scriptlet.error!);
    } catch (err) {
      fail(err);
    } finally {
      setBusy(null);
    }
  };

  const install = async (source: string) => {
    setBusy("install");
    setResult(null);
    editor.current?.clearError();
    try {
      await api.call("PATCH", "/1.0", { config: { [KEY]: source } });
      await cluster.reload(["server"]);
      setResult({ kind: "installed", message: source ? "Installed: new placements go through this scriptlet." : "Removed: placement is built-in again." });
    } catch (err) {
      fail(err);
    } finally {
      setBusy(null);
    }
  };

  const load = (name: string) => {
    const example = EXAMPLES.find((e) => e.name === name);
    if (!example) return;
    editor.current?.replace(example.source);
    setNote(`Loaded the example ${example.name} (Ctrl+Z undoes it). Test it, then install it.`);
  };

  return (
    <div class="page">
      <header class="page-head">
        <h1>Scriptlet</h1>
        <p class="muted summary">
          {installed ? `A scriptlet of ${installed.split("\n").length} lines is installed.` : "No scriptlet installed: placement is built-in."}
          {edited ? " The editor holds changes that are not installed." : ""}
        </p>
      </header>
      <div class="scriptlet-layout">
        <section class="editor-column" aria-label="Scriptlet source">
          <div class="toolbar">
            <label>
              Start from an example
              <select value="" onChange={(e) => load((e.target as HTMLSelectElement).value)}>
                <option value="">choose…</option>
                {EXAMPLES.map((e) => <option key={e.name} value={e.name} title={e.summary}>{e.name} — {e.title}</option>)}
              </select>
            </label>
            <button type="button" class="btn btn-plain btn-small" onClick={() => { editor.current?.replace(installed || STARTER); setNote(null); }} disabled={!edited}>
              {installed ? "Back to the installed one" : "Back to the starter"}
            </button>
          </div>
          {readOnly ? <Notice kind="info">Read-only: you signed in with a viewer token.</Notice> : null}
          {note ? <p class="muted small" role="status">{note}</p> : null}
          <CodeEditor initial={text} readOnly={readOnly} label="Scriptlet source" onChange={setText} handle={editor} />
          <div class="form-actions">
            <Action kind="primary" does="Testing a scriptlet (a POST request)" onClick={test} busy={busy === "test"}>Test against the cluster</Action>
            <Action does="Installing a scriptlet" onClick={() => install(text)} busy={busy === "install"} unavailable={dirty ? null : "The editor holds the installed scriptlet"}>Install</Action>
            <Action kind="danger" does="Removing the scriptlet" onClick={() => install("")} unavailable={installed ? null : "No scriptlet is installed"}>Remove scriptlet</Action>
          </div>
        </section>
        <section class="result-column" aria-label="Test">
          <form class="card" aria-label="Test request" onSubmit={(e) => { e.preventDefault(); void test(); }}>
            <h2>Test request</h2>
            <RequestFields values={values} onChange={setValues} idPrefix="test" fields={["name", "project", "cpu", "memory", "target", "reason"]} />
          </form>
          {result?.kind === "error" ? (
            <Notice>
              {result.line !== null ? <button type="button" class="link" onClick={() => editor.current?.focusLine(result.line!)}>Line {result.line}</button> : null}
              {result.line !== null ? ": " : ""}{result.message}
            </Notice>
          ) : null}
          {result?.kind === "installed" ? <Notice kind="ok">{result.message}</Notice> : null}
          {result?.kind === "tested" ? <PlacementAnswerView answer={result.answer} strategy={strategy} target={result.target} /> : null}
        </section>
      </div>
    </div>
  );
}
