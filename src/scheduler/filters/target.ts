/** `?target=node2` keeps only that member; `?target=@gpu` keeps only members of group gpu. */
import { TARGET_GROUP, TARGET_MEMBER } from "../prepared.ts";
import type { PreparedRequest } from "../prepared.ts";
import type { RejectionFacts } from "./facts.ts";

export const TARGET_FILTER = "target";
const NOT_THE_MEMBER = 1;
const NOT_IN_GROUP = 2;

export function applyTarget(p: PreparedRequest, list: Int32Array, count: number, verdicts: Uint8Array, base: number): number {
  let kept = 0;
  if (p.targetKind === TARGET_MEMBER) {
    const target = p.targetSlot; // -1 when the named member is not in the view: nobody passes
    for (let k = 0; k < count; k++) {
      const slot = list[k];
      if (slot === target) list[kept++] = slot;
      else verdicts[slot] = base + NOT_THE_MEMBER;
    }
  } else if (p.targetKind === TARGET_GROUP) {
    const inGroup = p.targetGroupMask; // shorter than the view (even empty) for an unknown group
    for (let k = 0; k < count; k++) {
      const slot = list[k];
      if (slot < inGroup.length && inGroup[slot] === 1) list[kept++] = slot;
      else verdicts[slot] = base + NOT_IN_GROUP;
    }
  } else {
    return count;
  }
  return kept;
}

export function describeTarget(f: RejectionFacts): string {
  const target = f.request.target;
  if (f.detail === NOT_THE_MEMBER && target && "member" in target) return `not the targeted member "${target.member}"`;
  if (f.detail === NOT_IN_GROUP && target && "group" in target) return `not in the targeted group "${target.group}"`;
  return "not the target of this placement";
}
