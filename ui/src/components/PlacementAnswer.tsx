/** The answer of POST /1.0/scheduler/placement made visible: the decision and why, ranked candidates, rejected members, the scriptlet. */
import { size, cores, percent, plural } from "../format.ts";
import { Link } from "../router.tsx";
import { Notice } from "./Notice.tsx";

export interface PlacementCandidate {
  server_name: string;
  rank: number;
  instance_count: number;
  pending: number;
  free: { cpu: number; memory: number; disk: number | null; gpu: number; reported_memory: number };
  /** What its instances and placements in flight request (bytes): the tie-break after the instance count. */
  requested_memory: number;
  allocated: number;
}

export interface ScriptletReport {
  called: boolean;
  target: string | null;
  rejected?: string | null;
  logs: { level: string; message: string }[];
  duration_ms: number;
  error: string | null;
}

export interface PlacementAnswer {
  target: string | null;
  candidates: PlacementCandidate[];
  rejected: Record<string, string>;
  scriptlet: ScriptletReport;
  error: string | null;
}

/** How each strategy orders candidates (src/scheduler/rankers): its score, then the shared tie-breaks. */
const STRATEGY: Record<string, string> = {
  count: "fewest instances first",
  spread: "least allocated first (cpu and memory)",
  pack: "most allocated first (bin-packing)",
};

function factsOf(c: PlacementCandidate, strategy: string): string {
  return strategy === "count"
    ? `${plural(c.instance_count, "instance")}, ${size(c.requested_memory)} memory requested`
    : `${percent(c.allocated)} allocated`;
}

/** One sentence: where it goes and what decided it. */
export function explain(answer: PlacementAnswer, strategy: string, target: string): string {
  if (!answer.target) return answer.error ?? "No member can take it.";
  const chosen = answer.candidates.find((c) => c.server_name === answer.target);
  const of = plural(answer.candidates.length, "candidate");
  if (target && !target.startsWith("@")) return `${answer.target} was named as the target and passed every filter.`;
  const within = target ? ` within group ${target.slice(1)}` : "";
  if (answer.scriptlet.called && answer.scriptlet.target) {
    return `The placement scriptlet chose ${answer.target}${within} (the built-in ranking put it ${ordinal(chosen?.rank ?? 0)} of ${of}).`;
  }
  if (!chosen) return `${answer.target} was chosen.`;
  const runnerUp = answer.candidates.find((c) => c.rank === 2);
  // Equal on the strategy's facts and the tie-breaks before the seed: the placement seed decided.
  const tie = runnerUp && runnerUp.instance_count === chosen.instance_count && runnerUp.requested_memory === chosen.requested_memory
    && (strategy === "count" || runnerUp.allocated === chosen.allocated)
    ? ` It tied with ${runnerUp.server_name}; the placement seed (from the project and name) broke the tie.` : "";
  return `${answer.target} ranked first of ${of}${within} by scheduler.strategy=${strategy}: ${STRATEGY[strategy] ?? strategy} (${factsOf(chosen, strategy)}).${tie}`;
}

const ordinal = (n: number) => (n === 1 ? "1st" : n === 2 ? "2nd" : n === 3 ? "3rd" : `${n}th`);

export function PlacementAnswerView({ answer, strategy, target, headline }: { answer: PlacementAnswer; strategy: string; target: string; headline?: string }) {
  const rejected = Object.entries(answer.rejected).sort(([a], [b]) => a.localeCompare(b));
  return (
    <div class="answer">
      <div class={`decision ${answer.target ? "decision-ok" : "decision-none"}`} role="status" aria-label="Placement decision">
        <div class="decision-target">{headline ?? (answer.target ? <>Target: <Link to={`/members/${encodeURIComponent(answer.target)}`}>{answer.target}</Link></> : "No member can take it")}</div>
        <p class="decision-why">{explain(answer, strategy, target)}</p>
      </div>
      <div class="answer-grid">
        <section>
          <h3>Ranked candidates ({answer.candidates.length})</h3>
          {answer.candidates.length === 0 ? <p class="muted">None.</p> : (
            <table class="table table-compact" aria-label="Ranked candidates">
              <thead><tr><th class="num">Rank</th><th>Member</th><th class="num">Instances</th><th class="num">Pending</th><th class="num">Free CPU</th><th class="num">Free memory</th><th class="num">Free disk</th><th class="num">Allocated</th></tr></thead>
              <tbody>
                {answer.candidates.map((c) => (
                  <tr key={c.server_name} class={c.server_name === answer.target ? "chosen" : undefined} aria-current={c.server_name === answer.target ? "true" : undefined}>
                    <td class="num">{c.rank}</td>
                    <td>{c.server_name}{c.server_name === answer.target ? <span class="tag">chosen</span> : null}</td>
                    <td class="num">{c.instance_count}</td>
                    <td class="num">{c.pending}</td>
                    <td class="num">{cores(c.free.cpu)}</td>
                    <td class="num">{size(c.free.memory)}</td>
                    <td class="num">{c.free.disk === null ? "—" : size(c.free.disk)}</td>
                    <td class="num">{percent(c.allocated)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section>
          <h3>Rejected members ({rejected.length})</h3>
          {rejected.length === 0 ? <p class="muted">Every member passed the filters.</p> : (
            <table class="table table-compact" aria-label="Rejected members">
              <thead><tr><th>Member</th><th>Reason</th></tr></thead>
              <tbody>{rejected.map(([member, reason]) => <tr key={member}><td>{member}</td><td class="why">{reason}</td></tr>)}</tbody>
            </table>
          )}
        </section>
      </div>
      <ScriptletReportView report={answer.scriptlet} />
    </div>
  );
}

export function ScriptletReportView({ report }: { report: ScriptletReport }) {
  return (
    <section class="scriptlet-report" aria-label="Scriptlet">
      <h3>Scriptlet</h3>
      {!report.called ? <p class="muted">Not called (no scriptlet installed, or an explicit member target).</p> : (
        <>
          <p>
            {report.error ? <>Failed, so the placement is refused</>
              : report.rejected ? <>Refused the placement: <strong>{report.rejected}</strong></>
              : report.target ? <>Chose <strong>{report.target}</strong></>
              : <>Accepted the built-in choice</>}
            <span class="muted"> · {report.duration_ms.toFixed(1)} ms</span>
          </p>
          {report.error ? <Notice>{report.error}</Notice> : null}
          <h4>Logs ({report.logs.length})</h4>
          {report.logs.length === 0 ? <p class="muted">No log lines.</p> : (
            <ol class="logs" aria-label="Scriptlet logs">
              {report.logs.map((l, i) => <li key={i} class={`log log-${l.level}`}><span class="log-level">{l.level}</span> {l.message}</li>)}
            </ol>
          )}
        </>
      )}
    </section>
  );
}
