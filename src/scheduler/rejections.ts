/**
 * Rejections as the scan leaves them — per member the id of the filter that dropped it and that
 * filter's detail, the numbers filters recorded, and a snapshot of the member infos — turned into
 * sentences only when someone reads them: the query endpoint and the 409 error. A placement that
 * succeeds never pays for formatting. Each filter words its own reasons; nothing here knows any.
 */
import type { Filter, RejectionFacts, Verdicts } from "./filters/index.ts";
import type { MemberInfo, PlacementRequest, Rejection, SchedulerConfig } from "./types.ts";

export class RejectionLog {
  constructor(
    /** The chain that ran: verdict ids are indexes into it, plus 1. */
    private readonly filters: readonly Filter[],
    private readonly verdicts: Verdicts,
    /** Infos by slot at decision time (a copy: slots move when members are removed). */
    private readonly infos: readonly MemberInfo[],
    readonly count: number,
  ) {}

  format(request: PlacementRequest, config: SchedulerConfig): Rejection[] {
    const out: Rejection[] = [];
    if (this.count === 0) return out;
    const { by, detail, numbers } = this.verdicts;
    const next = this.recordStarts();
    for (let slot = 0; slot < by.length; slot++) {
      const id = by[slot];
      if (id === 0) continue;
      const filter = this.filters[id - 1];
      const info = this.infos[slot];
      const length = filter.recordLength?.(detail[slot]) ?? 0;
      const at = next[id];
      next[id] = at + length;
      const facts: RejectionFacts = { info, detail: detail[slot], numbers: numbers.subarray(at, at + length), request, config };
      const rejection: Rejection = { member: info.name, filter: filter.name, reason: `${filter.name}: ${filter.describe(facts)}` };
      if (filter.details) Object.assign(rejection, filter.details(facts));
      out.push(rejection);
    }
    return out;
  }

  /** Where each filter's records start in `numbers`: filters ran in chain order and each appended
   *  its records in slot order, so filter k's follow all of filter k−1's. Indexed by id. */
  private recordStarts(): Float64Array {
    const { by, detail } = this.verdicts;
    const starts = new Float64Array(this.filters.length + 1);
    for (let slot = 0; slot < by.length; slot++) {
      const id = by[slot];
      if (id !== 0) starts[id] += this.filters[id - 1].recordLength?.(detail[slot]) ?? 0;
    }
    let at = 0;
    for (let id = 1; id < starts.length; id++) {
      const length = starts[id];
      starts[id] = at;
      at += length;
    }
    return starts;
  }

  /** How many members each filter dropped, without formatting any sentence. */
  countsByFilter(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const id of this.verdicts.by) {
      if (id === 0) continue;
      const name = this.filters[id - 1].name;
      out[name] = (out[name] ?? 0) + 1;
    }
    return out;
  }
}
