/**
 * The scriptlet editor: CodeMirror 6 with JavaScript highlighting, and a way to mark an error's
 * line (a highlighted line with the message, a gutter marker and an underline at the column).
 */
import { javascript } from "@codemirror/lang-javascript";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import { EditorState, StateEffect, StateField } from "@codemirror/state";
import { Decoration, EditorView, type DecorationSet } from "@codemirror/view";
import { basicSetup } from "codemirror";
import { useEffect, useRef } from "preact/hooks";

export interface EditorHandle {
  value(): string;
  /** Replaces the text as one undoable change. */
  replace(text: string): void;
  markError(line: number, column: number | null, message: string): void;
  clearError(): void;
  focusLine(line: number): void;
}

const setErrorLine = StateEffect.define<{ line: number; message: string } | null>();

const errorLine = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(marks, tr) {
    marks = marks.map(tr.changes);
    for (const effect of tr.effects) {
      if (!effect.is(setErrorLine)) continue;
      if (effect.value === null) {
        marks = Decoration.none;
        continue;
      }
      const line = tr.state.doc.line(Math.min(Math.max(effect.value.line, 1), tr.state.doc.lines));
      marks = Decoration.set([
        Decoration.line({ class: "cm-berth-error-line", attributes: { "data-error-line": String(line.number), title: effect.value.message } }).range(line.from),
      ]);
    }
    return marks;
  },
  provide: (field) => EditorView.decorations.from(field),
});

/** The style nonce the service put in the page (see src/api/routes/ui.ts): CodeMirror's <style> element carries it. */
function styleNonce(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="berth-csp-nonce"]')?.content ?? "";
}

export function CodeEditor({ initial, readOnly, label, onChange, handle }: {
  initial: string;
  readOnly: boolean;
  label: string;
  onChange: (text: string) => void;
  handle: { current: EditorHandle | null };
}) {
  const host = useRef<HTMLDivElement>(null);
  const changed = useRef(onChange);
  changed.current = onChange;
  useEffect(() => {
    const view = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: initial,
        extensions: [
          basicSetup,
          javascript(),
          lintGutter(),
          errorLine,
          EditorView.cspNonce.of(styleNonce()),
          EditorState.readOnly.of(readOnly),
          EditorView.editable.of(!readOnly),
          EditorView.contentAttributes.of({ "aria-label": label, ...(readOnly ? { "aria-readonly": "true" } : {}) }),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) changed.current(update.state.doc.toString());
          }),
        ],
      }),
    });
    handle.current = {
      value: () => view.state.doc.toString(),
      replace(text) {
        view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text }, effects: setErrorLine.of(null) });
        view.dispatch(setDiagnostics(view.state, []));
      },
      markError(lineNumber, column, message) {
        const doc = view.state.doc;
        const line = doc.line(Math.min(Math.max(lineNumber, 1), doc.lines));
        const from = Math.min(line.from + Math.max((column ?? 1) - 1, 0), line.to);
        const to = from < line.to ? line.to : Math.min(from + 1, doc.length);
        view.dispatch({ effects: setErrorLine.of({ line: line.number, message }) });
        view.dispatch(setDiagnostics(view.state, [{ from, to, severity: "error", message }]));
        view.dispatch({ effects: EditorView.scrollIntoView(line.from, { y: "center" }) });
      },
      clearError() {
        view.dispatch({ effects: setErrorLine.of(null) });
        view.dispatch(setDiagnostics(view.state, []));
      },
      focusLine(lineNumber) {
        const line = view.state.doc.line(Math.min(Math.max(lineNumber, 1), view.state.doc.lines));
        view.dispatch({ selection: { anchor: line.from }, effects: EditorView.scrollIntoView(line.from, { y: "center" }) });
        view.focus();
      },
    };
    return () => {
      handle.current = null;
      view.destroy();
    };
    // The editor is created once; later `initial` values go through handle.replace.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [readOnly]);
  return <div class="code-editor" ref={host} />;
}
