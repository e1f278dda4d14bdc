/** Members the request rules out by name: an evacuation never places on its source. */
import type { PreparedRequest } from "../prepared.ts";
import type { RejectionFacts } from "./facts.ts";

export const EXCLUDE_FILTER = "exclude";

export function applyExclude(p: PreparedRequest, list: Int32Array, count: number, verdicts: Uint8Array, base: number): number {
  const excluded = p.excludeSlots;
  if (excluded.length === 0) return count;
  let kept = 0;
  for (let k = 0; k < count; k++) {
    const slot = list[k];
    if (excluded.includes(slot)) verdicts[slot] = base + 1;
    else list[kept++] = slot;
  }
  return kept;
}

export function describeExclude(f: RejectionFacts): string {
  return f.request.reason === "evacuation"
    ? "member is the one being evacuated"
    : "member is excluded by this placement";
}
