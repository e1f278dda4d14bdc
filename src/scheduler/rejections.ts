/**
 * Rejections as the scan leaves them — one byte per member (0 = candidate, else filter id × 16 +
 * detail), a snapshot of the member infos, and the numbers the resources filter captured — turned
 * into sentences only when someone reads them: the query endpoint and the 409 error. A placement
 * that succeeds never pays for formatting.
 */
import { describeRejection, FILTER_NAMES, filterIdOf, RESOURCES_ID } from "./filters/index.ts";
import type { MemberInfo, PlacementRequest, Rejection, SchedulerConfig } from "./types.ts";

export class RejectionLog {
  constructor(
    private readonly verdicts: Uint8Array,
    /** Infos by slot at decision time (a copy: slots move when members are removed). */
    private readonly infos: readonly MemberInfo[],
    /** For resources rejections, in slot order: (already requested, raw total) pairs. */
    private readonly numbers: Float64Array | null,
    readonly count: number,
  ) {}

  format(request: PlacementRequest, config: SchedulerConfig): Rejection[] {
    const out: Rejection[] = [];
    if (this.count === 0) return out;
    let captured = 0;
    for (let slot = 0; slot < this.verdicts.length; slot++) {
      const code = this.verdicts[slot];
      if (code === 0) continue;
      const info = this.infos[slot];
      let requested = 0;
      let total = 0;
      if (filterIdOf(code) === RESOURCES_ID && this.numbers !== null) {
        requested = this.numbers[captured++];
        total = this.numbers[captured++];
      }
      const reason = describeRejection(code, { info, requested, total, request, config });
      out.push({ member: info.name, filter: FILTER_NAMES[filterIdOf(code)], reason });
    }
    return out;
  }

  /** How many members each filter dropped, without formatting any sentence. */
  countsByFilter(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const code of this.verdicts) {
      if (code === 0) continue;
      const name = FILTER_NAMES[filterIdOf(code)];
      out[name] = (out[name] ?? 0) + 1;
    }
    return out;
  }
}
