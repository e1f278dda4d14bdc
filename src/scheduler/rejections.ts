/**
 * Rejections recorded compactly during the scan (the member's info, a packed code, two numbers)
 * and turned into sentences only when someone reads them: the query endpoint and the 409 error.
 * A placement that succeeds never pays for formatting.
 */
import { describeRejection, FILTER_NAMES, filterIdOf, RESOURCES_ID } from "./filters/index.ts";
import { requestedFor, totalFor } from "./filters/resources.ts";
import { REJECTION_CODE_BASE } from "./filters/index.ts";
import type { PreparedRequest } from "./prepared.ts";
import type { MemberInfo, PlacementRequest, Rejection, SchedulerConfig } from "./types.ts";

export class RejectionLog {
  private readonly infos: MemberInfo[] = [];
  private readonly codes: number[] = [];
  private readonly numbers: number[] = []; // requested, total: two per rejection

  get count(): number {
    return this.codes.length;
  }

  add(p: PreparedRequest, slot: number, code: number): void {
    this.infos.push(p.columns.infos[slot]);
    this.codes.push(code);
    if (filterIdOf(code) === RESOURCES_ID) {
      const resource = code % REJECTION_CODE_BASE;
      this.numbers.push(requestedFor(p, slot, resource), totalFor(p, slot, resource));
    } else {
      this.numbers.push(0, 0);
    }
  }

  format(request: PlacementRequest, config: SchedulerConfig): Rejection[] {
    const out: Rejection[] = new Array(this.codes.length);
    for (let k = 0; k < this.codes.length; k++) {
      const code = this.codes[k];
      const info = this.infos[k];
      const reason = describeRejection(code, {
        info, requested: this.numbers[2 * k], total: this.numbers[2 * k + 1], request, config,
      });
      out[k] = { member: info.name, filter: FILTER_NAMES[filterIdOf(code)], reason };
    }
    return out;
  }

  /** How many members each filter dropped, without formatting any sentence. */
  countsByFilter(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const code of this.codes) {
      const name = FILTER_NAMES[filterIdOf(code)];
      out[name] = (out[name] ?? 0) + 1;
    }
    return out;
  }
}
