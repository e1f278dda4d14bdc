/** Members the request rules out by name: an evacuation never places on its source. */
import type { PreparedRequest } from "../prepared.ts";
import type { Filter, RejectionFacts, Verdicts } from "./filter.ts";

export const EXCLUDE_FILTER = "exclude";

function apply(p: PreparedRequest, list: Int32Array, count: number, verdicts: Verdicts, id: number): number {
  const excluded = p.excludeSlots;
  if (excluded.length === 0) return count;
  const by = verdicts.by;
  let kept = 0;
  for (let k = 0; k < count; k++) {
    const slot = list[k];
    if (excluded.includes(slot)) by[slot] = id;
    else list[kept++] = slot;
  }
  return kept;
}

function describe(f: RejectionFacts): string {
  return f.request.reason === "evacuation"
    ? "member is the one being evacuated"
    : "member is excluded by this placement";
}

export const excludeFilter: Filter = { name: EXCLUDE_FILTER, apply, describe };
