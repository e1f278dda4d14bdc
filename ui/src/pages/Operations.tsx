/** Running and recent operations with their progress and results, updated from the events. */
import { Fragment } from "preact";
import { useState } from "preact/hooks";
import type { Operation } from "../../../src/domain/types.ts";
import { Action } from "../components/Action.tsx";
import { messageOf, Notice } from "../components/Notice.tsx";
import { OperationProgress, progressOf } from "../components/OperationProgress.tsx";
import { operationTone, Status } from "../components/Status.tsx";
import { isFinished } from "../cluster.ts";
import { useCluster, useSession } from "../context.ts";
import { when } from "../format.ts";

export function OperationsPage() {
  const { operations } = useCluster();
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const running = operations.filter((o) => !isFinished(o));
  const recent = operations.filter(isFinished);
  return (
    <div class="page">
      <header class="page-head">
        <h1>Operations</h1>
        <p class="muted summary">{running.length} running · {recent.length} finished (kept for operations.retention)</p>
      </header>
      {error ? <Notice>{error}</Notice> : null}
      <h2>Running</h2>
      {running.length === 0 ? <p class="muted">Nothing is running.</p> : running.map((op) => <RunningOperation key={op.id} op={op} onError={setError} />)}
      <h2>Recent</h2>
      <table class="table" aria-label="Recent operations">
        <thead><tr><th>Operation</th><th>Status</th><th>Result</th><th>Started</th><th>Finished</th><th><span class="sr-only">Details</span></th></tr></thead>
        <tbody>
          {recent.map((op) => (
            <Fragment key={op.id}>
              <tr data-operation={op.id}>
                <td>{op.description}<div class="muted small mono">{op.id}</div></td>
                <td><Status status={op.status} tone={operationTone(op.status)} /></td>
                <td class="why">{op.err || summary(op)}</td>
                <td class="small">{when(op.created_at)}</td>
                <td class="small">{when(op.updated_at)}</td>
                <td>
                  <button type="button" class="btn btn-plain btn-small" aria-expanded={open === op.id} onClick={() => setOpen(open === op.id ? null : op.id)}>
                    {open === op.id ? "Hide" : "Details"}
                  </button>
                </td>
              </tr>
              {open === op.id ? (
                <tr class="details-row">
                  <td colSpan={6}>
                    <OperationProgress op={op} />
                    <details><summary>Metadata (JSON)</summary><pre class="json">{JSON.stringify(op.metadata, null, 2)}</pre></details>
                  </td>
                </tr>
              ) : null}
            </Fragment>
          ))}
          {recent.length === 0 ? <tr><td colSpan={6} class="muted">No finished operations.</td></tr> : null}
        </tbody>
      </table>
    </div>
  );
}

function summary(op: Operation): string {
  const { done, total, step } = progressOf(op);
  const m = op.metadata ?? {};
  const parts: string[] = [];
  if (total > 0) parts.push(`${done} / ${total} instances`);
  for (const key of ["moved", "stopped", "failed", "cancelled"]) if (typeof m[key] === "number" && m[key]) parts.push(`${m[key]} ${key}`);
  if (step) parts.push(step);
  return parts.join(" · ");
}

function RunningOperation({ op, onError }: { op: Operation; onError: (message: string | null) => void }) {
  const { api, cluster } = useSession();
  const cancel = async () => {
    try {
      cluster.upsertOperation(await api.call<Operation>("DELETE", `/1.0/operations/${op.id}`));
      onError(null);
    } catch (err) {
      onError(messageOf(err));
    }
  };
  return (
    <div class="op-running">
      <OperationProgress op={op} compact />
      {op.may_cancel ? <Action small kind="danger" does="Cancelling an operation" onClick={cancel} label={`Cancel ${op.description}`}>Cancel</Action> : null}
    </div>
  );
}
