/** `?target=node2` keeps only that member; `?target=@gpu` keeps only members of group gpu. */
import { TARGET_GROUP, TARGET_MEMBER } from "../prepared.ts";
import type { PreparedRequest } from "../prepared.ts";
import type { Filter, RejectionFacts, Verdicts } from "./filter.ts";

export const TARGET_FILTER = "target";

function apply(p: PreparedRequest, list: Int32Array, count: number, verdicts: Verdicts, id: number): number {
  const by = verdicts.by;
  let kept = 0;
  if (p.targetKind === TARGET_MEMBER) {
    const target = p.targetSlot; // -1 when the named member is not in the view: nobody passes
    for (let k = 0; k < count; k++) {
      const slot = list[k];
      if (slot === target) list[kept++] = slot;
      else by[slot] = id;
    }
  } else if (p.targetKind === TARGET_GROUP) {
    const inGroup = p.targetGroupMask; // shorter than the view (even empty) for an unknown group
    for (let k = 0; k < count; k++) {
      const slot = list[k];
      if (slot < inGroup.length && inGroup[slot] === 1) list[kept++] = slot;
      else by[slot] = id;
    }
  } else {
    return count;
  }
  return kept;
}

function describe(f: RejectionFacts): string {
  const target = f.request.target;
  if (target && "member" in target) return `not the targeted member "${target.member}"`;
  if (target && "group" in target) return `not in the targeted group "${target.group}"`;
  return "not the target of this placement";
}

export const targetFilter: Filter = { name: TARGET_FILTER, apply, describe };
