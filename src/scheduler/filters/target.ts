/** `?target=node2` keeps only that member; `?target=@gpu` keeps only members of group gpu. */
import { TARGET_GROUP, TARGET_MEMBER } from "../prepared.ts";
import type { PreparedRequest } from "../prepared.ts";
import type { RejectionFacts } from "./facts.ts";

export const TARGET_FILTER = "target";
const NOT_THE_MEMBER = 1;
const NOT_IN_GROUP = 2;

export function applyTarget(p: PreparedRequest, verdicts: Uint8Array, base: number, from: number, to: number): void {
  if (p.targetKind === TARGET_MEMBER) {
    const target = p.targetSlot; // -1 when the named member is not in the view: nobody passes
    for (let slot = from; slot < to; slot++) {
      if (verdicts[slot] === 0 && slot !== target) verdicts[slot] = base + NOT_THE_MEMBER;
    }
  } else if (p.targetKind === TARGET_GROUP) {
    const inGroup = p.targetGroupMask; // shorter than the view (even empty) for an unknown group
    const end = Math.min(to, inGroup.length);
    for (let slot = from; slot < end; slot++) {
      if (verdicts[slot] === 0 && inGroup[slot] === 0) verdicts[slot] = base + NOT_IN_GROUP;
    }
    for (let slot = Math.max(from, end); slot < to; slot++) if (verdicts[slot] === 0) verdicts[slot] = base + NOT_IN_GROUP;
  }
}

export function describeTarget(f: RejectionFacts): string {
  const target = f.request.target;
  if (f.detail === NOT_THE_MEMBER && target && "member" in target) return `not the targeted member "${target.member}"`;
  if (f.detail === NOT_IN_GROUP && target && "group" in target) return `not in the targeted group "${target.group}"`;
  return "not the target of this placement";
}
