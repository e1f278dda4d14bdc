/** Members the request rules out by name: an evacuation never places on its source. */
import type { PreparedRequest } from "../prepared.ts";
import type { RejectionFacts } from "./facts.ts";

export const EXCLUDE_FILTER = "exclude";

export function checkExclude(p: PreparedRequest, slot: number): number {
  const excluded = p.excludeSlots;
  for (let k = 0; k < excluded.length; k++) if (excluded[k] === slot) return 1;
  return 0;
}

/** Only the excluded slots need a look: O(excluded), not O(members). */
export function applyExclude(p: PreparedRequest, verdicts: Uint8Array, base: number): void {
  for (const slot of p.excludeSlots) if (verdicts[slot] === 0) verdicts[slot] = base + 1;
}

export function describeExclude(f: RejectionFacts): string {
  return f.request.reason === "evacuation"
    ? "member is the one being evacuated"
    : "member is excluded by this placement";
}
