/**
 * LXD's scheduler.instance: `all` members take any instance; `manual` members only instances
 * targeted at them by name; `group` members only instances targeted at them by name or at a
 * group they belong to.
 */
import { SCHEDULER_MODE_CODES } from "../clusterView.ts";
import { TARGET_GROUP, TARGET_MEMBER } from "../prepared.ts";
import type { PreparedRequest } from "../prepared.ts";
import type { RejectionFacts } from "./facts.ts";

export const SCHEDULER_INSTANCE_FILTER = "scheduler-instance";
const ALL = SCHEDULER_MODE_CODES.all;
const MANUAL = SCHEDULER_MODE_CODES.manual;
const GROUP = SCHEDULER_MODE_CODES.group;

/** Detail = the member's mode code. */
export function applySchedulerInstance(p: PreparedRequest, verdicts: Uint8Array, base: number, from: number, to: number): void {
  const mode = p.columns.modeCode;
  const targetedSlot = p.targetKind === TARGET_MEMBER ? p.targetSlot : -1;
  const targetedGroup = p.targetKind === TARGET_GROUP ? p.targetGroupMask : null;
  for (let slot = from; slot < to; slot++) {
    const m = mode[slot];
    if (verdicts[slot] !== 0 || m === ALL || slot === targetedSlot) continue;
    const viaGroup = m === GROUP && targetedGroup !== null && slot < targetedGroup.length && targetedGroup[slot] === 1;
    if (!viaGroup) verdicts[slot] = base + m;
  }
}

export function describeSchedulerInstance(f: RejectionFacts): string {
  if (f.detail === MANUAL) {
    return "member has scheduler.instance=manual and only takes instances targeted at it by name";
  }
  const groups = f.info.groups.length > 0 ? f.info.groups.map((g) => `@${g}`).join(", ") : "none";
  return `member has scheduler.instance=group and only takes instances targeted at it or at one of its groups (${groups})`;
}
