/** The answer of one decision: candidates best first, and every dropped member with its reason. */
import type { RejectionLog } from "./rejections.ts";
import type { PlacementRequest, RankedCandidate, Rejection, SchedulerConfig } from "./types.ts";

export class PlacementResult {
  private formatted: readonly Rejection[] | null = null;

  constructor(
    /** Best first. From chooseBest: only the winner (or nothing). From rank: every candidate. */
    readonly candidates: readonly RankedCandidate[],
    /** How many members passed every filter (candidates.length when fully ranked). */
    readonly candidateCount: number,
    readonly request: PlacementRequest,
    readonly config: SchedulerConfig,
    private readonly log: RejectionLog,
  ) {}

  get best(): RankedCandidate | undefined {
    return this.candidates[0];
  }

  get rejectedCount(): number {
    return this.log.count;
  }

  /** Formatted on first read, then kept. Reasons describe the member as it was at decision time. */
  get rejected(): readonly Rejection[] {
    return (this.formatted ??= this.log.format(this.request, this.config));
  }

  /** The API's `rejected: {member: reason}` shape. */
  rejectedByMember(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const r of this.rejected) out[r.member] = r.reason;
    return out;
  }

  /** e.g. {status: 2, resources: 3}: cheap, no sentences. */
  rejectionCounts(): Record<string, number> {
    return this.log.countsByFilter();
  }

  /** One line for an error message: what was placed and how many members each filter dropped. */
  summary(): string {
    const r = this.request;
    const counts = Object.entries(this.rejectionCounts()).map(([filter, n]) => `${filter}: ${n}`).join(", ");
    const what = `instance "${r.name}" in project "${r.project}"`;
    if (this.log.count === 0) return `No cluster member can take ${what}: the cluster has no members`;
    return `No cluster member can take ${what}: ${this.log.count} rejected (${counts})`;
  }
}
