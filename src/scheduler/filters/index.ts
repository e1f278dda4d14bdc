/**
 * The filter chain, in order. The first filter that drops a member names the reason; the order
 * puts the most telling reason first (a targeted placement explains "not the target" before
 * "Offline" for every other member; the target itself gets its real problem).
 */
import type { PreparedRequest } from "../prepared.ts";
import { TARGET_NONE } from "../prepared.ts";
import { applyArchitecture, ARCHITECTURE_FILTER, checkArchitecture, describeArchitecture } from "./architecture.ts";
import { applyExclude, checkExclude, describeExclude, EXCLUDE_FILTER } from "./exclude.ts";
import type { RejectionFacts } from "./facts.ts";
import { applyProjectGroups, checkProjectGroups, describeProjectGroups, PROJECT_GROUPS_FILTER } from "./projectGroups.ts";
import { applyResources, checkResources, describeResources, RESOURCES_FILTER } from "./resources.ts";
import {
  applySchedulerInstance, checkSchedulerInstance, describeSchedulerInstance, SCHEDULER_INSTANCE_FILTER,
} from "./schedulerInstance.ts";
import { applyStatus, checkStatus, describeStatus, STATUS_FILTER } from "./status.ts";
import { applyTarget, checkTarget, describeTarget, TARGET_FILTER } from "./target.ts";

export type { RejectionFacts } from "./facts.ts";
export {
  ARCHITECTURE_FILTER, EXCLUDE_FILTER, PROJECT_GROUPS_FILTER, RESOURCES_FILTER, SCHEDULER_INSTANCE_FILTER,
  STATUS_FILTER, TARGET_FILTER,
};

export const TARGET_ID = 1;
export const EXCLUDE_ID = 2;
export const STATUS_ID = 3;
export const SCHEDULER_INSTANCE_ID = 4;
export const PROJECT_GROUPS_ID = 5;
export const ARCHITECTURE_ID = 6;
export const RESOURCES_ID = 7;

/** Filter names by id, in chain order. */
export const FILTER_NAMES: readonly string[] = [
  "", TARGET_FILTER, EXCLUDE_FILTER, STATUS_FILTER, SCHEDULER_INSTANCE_FILTER, PROJECT_GROUPS_FILTER,
  ARCHITECTURE_FILTER, RESOURCES_FILTER,
];

const DESCRIBERS: readonly ((facts: RejectionFacts) => string)[] = [
  () => "", describeTarget, describeExclude, describeStatus, describeSchedulerInstance, describeProjectGroups,
  describeArchitecture, describeResources,
];

/** A rejection packed in one small integer: filter id × 16 + the filter's detail code (1..15). */
export const REJECTION_CODE_BASE = 16;

const base = (id: number): number => id * REJECTION_CODE_BASE;

/**
 * Runs the chain over every member, one filter at a time: each pass is a tight loop over a few
 * typed arrays, and a filter the request cannot trip (no target, unrestricted project, any
 * architecture, nothing requested) is skipped outright. verdicts[slot] ends 0 for a candidate,
 * else the packed code of the first filter that dropped it — the same answer as firstRejection.
 */
export function applyFilters(p: PreparedRequest, verdicts: Uint8Array): void {
  if (p.targetKind !== TARGET_NONE) applyTarget(p, verdicts, base(TARGET_ID));
  if (p.excludeSlots.length > 0) applyExclude(p, verdicts, base(EXCLUDE_ID));
  applyStatus(p, verdicts, base(STATUS_ID));
  applySchedulerInstance(p, verdicts, base(SCHEDULER_INSTANCE_ID));
  if (p.allowedGroupMasks !== null) applyProjectGroups(p, verdicts, base(PROJECT_GROUPS_ID));
  if (!p.anyArchitecture) applyArchitecture(p, verdicts, base(ARCHITECTURE_ID));
  if (p.cpuMilli > 0 || p.memory > 0 || p.checkDisk || p.gpu > 0) applyResources(p, verdicts, base(RESOURCES_ID));
}

/** Runs the chain on one member: 0 when it passes, else the packed rejection code. Direct calls
 *  (no array of closures) so V8 can inline every check into the scan loop. */
export function firstRejection(p: PreparedRequest, slot: number): number {
  let d: number;
  if ((d = checkTarget(p, slot)) !== 0) return TARGET_ID * REJECTION_CODE_BASE + d;
  if ((d = checkExclude(p, slot)) !== 0) return EXCLUDE_ID * REJECTION_CODE_BASE + d;
  if ((d = checkStatus(p, slot)) !== 0) return STATUS_ID * REJECTION_CODE_BASE + d;
  if ((d = checkSchedulerInstance(p, slot)) !== 0) return SCHEDULER_INSTANCE_ID * REJECTION_CODE_BASE + d;
  if ((d = checkProjectGroups(p, slot)) !== 0) return PROJECT_GROUPS_ID * REJECTION_CODE_BASE + d;
  if ((d = checkArchitecture(p, slot)) !== 0) return ARCHITECTURE_ID * REJECTION_CODE_BASE + d;
  if ((d = checkResources(p, slot)) !== 0) return RESOURCES_ID * REJECTION_CODE_BASE + d;
  return 0;
}

export function filterIdOf(code: number): number {
  return (code / REJECTION_CODE_BASE) | 0;
}

/** "status: member is Evacuated" */
export function describeRejection(code: number, facts: Omit<RejectionFacts, "detail">): string {
  const id = filterIdOf(code);
  return `${FILTER_NAMES[id]}: ${DESCRIBERS[id]({ ...facts, detail: code % REJECTION_CODE_BASE })}`;
}
