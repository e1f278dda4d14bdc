/** Members the request rules out by name: an evacuation never places on its source. */
import type { PreparedRequest } from "../prepared.ts";
import type { RejectionFacts } from "./facts.ts";

export const EXCLUDE_FILTER = "exclude";

/** Only the excluded slots need a look: O(excluded), not O(members). */
export function applyExclude(p: PreparedRequest, verdicts: Uint8Array, base: number, from: number, to: number): void {
  for (const slot of p.excludeSlots) {
    if (slot >= from && slot < to && verdicts[slot] === 0) verdicts[slot] = base + 1;
  }
}

export function describeExclude(f: RejectionFacts): string {
  return f.request.reason === "evacuation"
    ? "member is the one being evacuated"
    : "member is excluded by this placement";
}
