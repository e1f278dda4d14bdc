/**
 * An operation as it runs: status, done/total as a bar, the current step (evacuation_progress), and
 * once it ends what happened to each instance. Updated live from the operation's events.
 */
import type { Operation } from "../../../src/domain/types.ts";
import { isFinished } from "../cluster.ts";
import { when } from "../format.ts";
import { Link } from "../router.tsx";
import { Notice } from "./Notice.tsx";
import { operationTone, Status } from "./Status.tsx";

interface Outcome {
  project: string;
  name: string;
  action?: string;
  target?: string | null;
  from?: string;
  outcome?: string;
  why?: string;
  error?: string;
}

const OUTCOME_TONES: Record<string, string> = { moved: "good", started: "good", stopped: "idle", gone: "idle", skipped: "idle", failed: "bad" };

export function progressOf(op: Operation): { done: number; total: number; step: string | null } {
  const m = op.metadata ?? {};
  const number = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
  return { done: number(m.done), total: number(m.total), step: typeof m.evacuation_progress === "string" ? m.evacuation_progress : null };
}

export function OperationProgress({ op, onDismiss, compact }: { op: Operation; onDismiss?: () => void; compact?: boolean }) {
  const { done, total, step } = progressOf(op);
  const finished = isFinished(op);
  const outcomes = Array.isArray(op.metadata?.instances) ? (op.metadata.instances as Outcome[]) : [];
  const fraction = total > 0 ? done / total : finished ? 1 : 0;
  return (
    <section class={`op-card${finished ? " op-finished" : ""}`} aria-label={`Operation: ${op.description}`} data-operation={op.id}>
      <header class="op-head">
        <strong class="op-title">{op.description}</strong>
        <Status status={op.status} tone={operationTone(op.status)} />
        <span class="muted op-time">started {when(op.created_at)}</span>
        {onDismiss && finished ? <button type="button" class="btn btn-plain btn-small" onClick={onDismiss} aria-label={`Dismiss ${op.description}`}>Dismiss</button> : null}
      </header>
      <div class="op-progress">
        <div
          class="progress"
          role="progressbar"
          aria-label={`Progress of ${op.description}`}
          aria-valuemin={0}
          aria-valuemax={Math.max(total, 1)}
          aria-valuenow={total > 0 ? done : finished ? 1 : 0}
          aria-valuetext={`${done} of ${total} instances done`}
        >
          <div class={`progress-fill tone-${op.status === "Failure" ? "bad" : finished ? "good" : "busy"}`} style={{ width: `${(fraction * 100).toFixed(1)}%` }} />
        </div>
        <span class="op-count" data-testid="op-count">{done} / {total} instances</span>
      </div>
      <p class="op-step" aria-live="polite" data-testid="op-step">{step ?? (finished ? "" : "Waiting to start…")}</p>
      {op.err ? <Notice>{op.err}</Notice> : null}
      {finished && outcomes.length > 0 && !compact ? (
        <table class="table table-compact" aria-label={`Instances of ${op.description}`}>
          <thead><tr><th>Instance</th><th>Project</th><th>Action</th><th>Where</th><th>Outcome</th><th>Why</th></tr></thead>
          <tbody>
            {outcomes.map((o) => (
              <tr key={`${o.project}/${o.name}`}>
                <td>{o.name}</td>
                <td>{o.project}</td>
                <td>{o.action ?? ""}</td>
                <td>{o.target ? <>→ <Link to={`/members/${o.target}`}>{o.target}</Link></> : o.from ? <>from {o.from}</> : "stays"}</td>
                <td><Status status={o.outcome ?? ""} tone={OUTCOME_TONES[o.outcome ?? ""] ?? "idle"} /></td>
                <td class="why">{o.error ?? o.why ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
