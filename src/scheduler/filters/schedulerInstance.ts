/**
 * LXD's scheduler.instance: `all` members take any instance; `manual` members only instances
 * targeted at them by name; `group` members only instances targeted at them by name or at a
 * group they belong to.
 */
import { SCHEDULER_MODE_CODES } from "../clusterView.ts";
import { maskHas, TARGET_GROUP, TARGET_MEMBER } from "../prepared.ts";
import type { PreparedRequest } from "../prepared.ts";
import type { RejectionFacts } from "./facts.ts";

export const SCHEDULER_INSTANCE_FILTER = "scheduler-instance";
const MANUAL = SCHEDULER_MODE_CODES.manual;
const GROUP = SCHEDULER_MODE_CODES.group;

/** 0 = passes; otherwise the member's mode code. */
export function checkSchedulerInstance(p: PreparedRequest, slot: number): number {
  const mode = p.columns.modeCode[slot];
  if (mode !== MANUAL && mode !== GROUP) return 0;
  if (p.targetKind === TARGET_MEMBER && p.targetSlot === slot) return 0;
  if (mode === GROUP && p.targetKind === TARGET_GROUP && maskHas(p.targetGroupMask, slot)) return 0;
  return mode;
}

/** Marks every member still passing (verdict 0) that this filter drops with `base` + detail. */
export function applySchedulerInstance(p: PreparedRequest, verdicts: Uint8Array, base: number): void {
  for (let slot = 0; slot < p.size; slot++) {
    if (verdicts[slot] !== 0) continue;
    const detail = checkSchedulerInstance(p, slot);
    if (detail !== 0) verdicts[slot] = base + detail;
  }
}

export function describeSchedulerInstance(f: RejectionFacts): string {
  if (f.detail === MANUAL) {
    return "member has scheduler.instance=manual and only takes instances targeted at it by name";
  }
  const groups = f.info.groups.length > 0 ? f.info.groups.map((g) => `@${g}`).join(", ") : "none";
  return `member has scheduler.instance=group and only takes instances targeted at it or at one of its groups (${groups})`;
}
