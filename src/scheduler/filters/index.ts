/**
 * The filter chain, in order. The first filter that drops a member names the reason; the order
 * puts the most telling reason first (a targeted placement says "not the target" for every other
 * member, and the target itself gets its real problem).
 */
import type { PreparedRequest } from "../prepared.ts";
import { applyArchitecture, ARCHITECTURE_FILTER, describeArchitecture } from "./architecture.ts";
import { applyExclude, describeExclude, EXCLUDE_FILTER } from "./exclude.ts";
import type { RejectionFacts } from "./facts.ts";
import { applyProjectGroups, describeProjectGroups, PROJECT_GROUPS_FILTER } from "./projectGroups.ts";
import { applyResources, describeResources, RESOURCES_FILTER } from "./resources.ts";
import { applySchedulerInstance, describeSchedulerInstance, SCHEDULER_INSTANCE_FILTER } from "./schedulerInstance.ts";
import { applyStatus, describeStatus, STATUS_FILTER } from "./status.ts";
import { applyTarget, describeTarget, TARGET_FILTER } from "./target.ts";

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

/** A rejection packed in one byte: filter id × 16 + the filter's detail code (1..15). */
export const REJECTION_CODE_BASE = 16;
const base = (id: number): number => id * REJECTION_CODE_BASE;

/**
 * Runs the chain. `list[0..count)` holds the slots still in the running; each filter narrows it
 * in place, records the packed code of every member it drops in `verdicts`, and returns the new
 * count. A member dropped early is never looked at again, and a filter the request cannot trip
 * (no target, unrestricted project, any architecture, nothing requested, everyone Online) returns
 * at once. Returns how many members passed; they are list[0..result), in slot order.
 * Re-checking one member is the same call with a one-slot list.
 */
export function applyFilters(p: PreparedRequest, list: Int32Array, count: number, verdicts: Uint8Array): number {
  let n = count;
  n = applyTarget(p, list, n, verdicts, base(TARGET_ID));
  n = applyExclude(p, list, n, verdicts, base(EXCLUDE_ID));
  n = applyStatus(p, list, n, verdicts, base(STATUS_ID));
  n = applySchedulerInstance(p, list, n, verdicts, base(SCHEDULER_INSTANCE_ID));
  n = applyProjectGroups(p, list, n, verdicts, base(PROJECT_GROUPS_ID));
  n = applyArchitecture(p, list, n, verdicts, base(ARCHITECTURE_ID));
  n = applyResources(p, list, n, verdicts, base(RESOURCES_ID));
  return n;
}

export function filterIdOf(code: number): number {
  return (code / REJECTION_CODE_BASE) | 0;
}

/** "status: member is Evacuated" */
export function describeRejection(code: number, facts: Omit<RejectionFacts, "detail">): string {
  const id = filterIdOf(code);
  return `${FILTER_NAMES[id]}: ${DESCRIBERS[id]({ ...facts, detail: code % REJECTION_CODE_BASE })}`;
}
