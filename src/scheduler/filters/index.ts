/**
 * The filter chain, in order. The first filter that drops a member names the reason; the order
 * puts the most telling reason first (a targeted placement says "not the target" for every other
 * member, and the target itself gets its real problem).
 */
import type { PreparedRequest } from "../prepared.ts";
import { TARGET_NONE } from "../prepared.ts";
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
 * Runs the chain over members [from, to), one filter at a time: each filter is one tight loop
 * over a few typed arrays, touching only members still passing, and a filter the request cannot
 * trip (no target, unrestricted project, any architecture, nothing requested) is skipped
 * outright. verdicts[slot] ends 0 for a candidate, else the code of the first filter that
 * dropped it. Re-checking one member is the same call over a one-slot range.
 */
export function applyFilters(p: PreparedRequest, verdicts: Uint8Array, from = 0, to = p.size): void {
  if (p.targetKind !== TARGET_NONE) applyTarget(p, verdicts, base(TARGET_ID), from, to);
  if (p.excludeSlots.length > 0) applyExclude(p, verdicts, base(EXCLUDE_ID), from, to);
  applyStatus(p, verdicts, base(STATUS_ID), from, to);
  applySchedulerInstance(p, verdicts, base(SCHEDULER_INSTANCE_ID), from, to);
  if (p.allowedGroupMasks !== null) applyProjectGroups(p, verdicts, base(PROJECT_GROUPS_ID), from, to);
  if (!p.anyArchitecture) applyArchitecture(p, verdicts, base(ARCHITECTURE_ID), from, to);
  if (p.cpuMilli > 0 || p.memory > 0 || p.checkDisk || p.gpu > 0) applyResources(p, verdicts, base(RESOURCES_ID), from, to);
}

export function filterIdOf(code: number): number {
  return (code / REJECTION_CODE_BASE) | 0;
}

/** "status: member is Evacuated" */
export function describeRejection(code: number, facts: Omit<RejectionFacts, "detail">): string {
  const id = filterIdOf(code);
  return `${FILTER_NAMES[id]}: ${DESCRIBERS[id]({ ...facts, detail: code % REJECTION_CODE_BASE })}`;
}
