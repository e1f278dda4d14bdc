/** The placement explorer: an instance request in, POST /1.0/scheduler/placement's answer out. */
import { useState } from "preact/hooks";
import { Action } from "../components/Action.tsx";
import { messageOf, Notice } from "../components/Notice.tsx";
import { PlacementAnswerView, type PlacementAnswer } from "../components/PlacementAnswer.tsx";
import { emptyRequest, placementBody, requestProblem, RequestFields, type RequestValues } from "../components/RequestFields.tsx";
import { useCluster, useSession } from "../context.ts";

export function PlacementPage() {
  const { api } = useSession();
  const { server } = useCluster();
  const [values, setValues] = useState<RequestValues>({ ...emptyRequest("placement-query"), cpu: "1", memory: "1GiB" });
  const [answer, setAnswer] = useState<{ answer: PlacementAnswer; target: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const strategy = String(server?.effective_config["scheduler.strategy"] ?? "count");

  const submit = async (e: Event) => {
    e.preventDefault();
    const problem = requestProblem(values);
    if (problem) return setError(problem);
    setBusy(true);
    setError(null);
    try {
      setAnswer({ answer: await api.call<PlacementAnswer>("POST", "/1.0/scheduler/placement", placementBody(values)), target: values.target });
    } catch (err) {
      setError(messageOf(err));
      setAnswer(null);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="page">
      <header class="page-head">
        <h1>Placement explorer</h1>
        <p class="muted summary">Where would this instance go, and why not elsewhere? A dry run: nothing is created or reserved.</p>
      </header>
      <form class="card" onSubmit={submit} aria-label="Instance request">
        <RequestFields values={values} onChange={setValues} idPrefix="query" fields={["name", "project", "cpu", "memory", "disk", "pool", "gpu", "target", "reason"]} />
        <div class="form-actions">
          <Action type="submit" kind="primary" does="A placement query (a POST request)" busy={busy}>Explore placement</Action>
          <span class="muted small">strategy {strategy}</span>
        </div>
      </form>
      {error ? <Notice>{error}</Notice> : null}
      {answer ? <PlacementAnswerView answer={answer.answer} strategy={strategy} target={answer.target} /> : null}
    </div>
  );
}
