/**
 * LXD's scheduler.instance: `all` members take any instance; `manual` members only instances
 * targeted at them by name; `group` members only instances targeted at them by name or at a
 * group they belong to.
 */
import { SCHEDULER_MODE_CODES } from "../clusterView.ts";
import { TARGET_GROUP, TARGET_MEMBER } from "../prepared.ts";
import type { PreparedRequest } from "../prepared.ts";
import type { Filter, RejectionFacts, Verdicts } from "./filter.ts";

export const SCHEDULER_INSTANCE_FILTER = "scheduler-instance";
const ALL = SCHEDULER_MODE_CODES.all;
const GROUP = SCHEDULER_MODE_CODES.group;

function apply(p: PreparedRequest, list: Int32Array, count: number, verdicts: Verdicts, id: number): number {
  if (p.columns.restrictedModeCount === 0) return count; // every member takes any instance
  const mode = p.columns.modeCode;
  const targetedSlot = p.targetKind === TARGET_MEMBER ? p.targetSlot : -1;
  const targetedGroup = p.targetKind === TARGET_GROUP ? p.targetGroupMask : null;
  const by = verdicts.by;
  let kept = 0;
  for (let k = 0; k < count; k++) {
    const slot = list[k];
    const m = mode[slot];
    const takes = m === ALL || slot === targetedSlot ||
      (m === GROUP && targetedGroup !== null && slot < targetedGroup.length && targetedGroup[slot] === 1);
    if (takes) list[kept++] = slot;
    else by[slot] = id;
  }
  return kept;
}

function describe(f: RejectionFacts): string {
  if (f.info.schedulerMode === "manual") { // the decision's snapshot of the member
    return "member has scheduler.instance=manual and only takes instances targeted at it by name";
  }
  const groups = f.info.groups.length > 0 ? f.info.groups.map((g) => `@${g}`).join(", ") : "none";
  return `member has scheduler.instance=group and only takes instances targeted at it or at one of its groups (${groups})`;
}

export const schedulerInstanceFilter: Filter = { name: SCHEDULER_INSTANCE_FILTER, apply, describe };
