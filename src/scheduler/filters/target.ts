/** `?target=node2` keeps only that member; `?target=@gpu` keeps only members of group gpu. */
import { maskHas, TARGET_GROUP, TARGET_MEMBER } from "../prepared.ts";
import type { PreparedRequest } from "../prepared.ts";
import type { RejectionFacts } from "./facts.ts";

export const TARGET_FILTER = "target";
const NOT_THE_MEMBER = 1;
const NOT_IN_GROUP = 2;

export function checkTarget(p: PreparedRequest, slot: number): number {
  if (p.targetKind === TARGET_MEMBER) return p.targetSlot === slot ? 0 : NOT_THE_MEMBER;
  if (p.targetKind === TARGET_GROUP) return maskHas(p.targetGroupMask, slot) ? 0 : NOT_IN_GROUP;
  return 0;
}

/** Marks every member still passing (verdict 0) that this filter drops with `base` + detail. */
export function applyTarget(p: PreparedRequest, verdicts: Uint8Array, base: number): void {
  for (let slot = 0; slot < p.size; slot++) {
    if (verdicts[slot] !== 0) continue;
    const detail = checkTarget(p, slot);
    if (detail !== 0) verdicts[slot] = base + detail;
  }
}

export function describeTarget(f: RejectionFacts): string {
  const target = f.request.target;
  if (f.detail === NOT_THE_MEMBER && target && "member" in target) return `not the targeted member "${target.member}"`;
  if (f.detail === NOT_IN_GROUP && target && "group" in target) return `not in the targeted group "${target.group}"`;
  return "not the target of this placement";
}
