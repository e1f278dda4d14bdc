/**
 * The filter chain, in order. The first filter that drops a member names the reason; the order
 * puts the most telling reason first (a targeted placement says "not the target" for every other
 * member, and the target itself gets its real problem).
 *
 * Adding a filter: one file exporting a `Filter` (see filter.ts), one line in FILTERS.
 */
import type { PreparedRequest } from "../prepared.ts";
import { architectureFilter } from "./architecture.ts";
import { excludeFilter } from "./exclude.ts";
import { MAX_FILTERS, type Filter, type Verdicts } from "./filter.ts";
import { projectGroupsFilter } from "./projectGroups.ts";
import { resourcesFilter } from "./resources.ts";
import { schedulerInstanceFilter } from "./schedulerInstance.ts";
import { statusFilter } from "./status.ts";
import { targetFilter } from "./target.ts";

export { ARCHITECTURE_FILTER } from "./architecture.ts";
export { EXCLUDE_FILTER } from "./exclude.ts";
export { PROJECT_GROUPS_FILTER } from "./projectGroups.ts";
export { RESOURCES_FILTER } from "./resources.ts";
export { SCHEDULER_INSTANCE_FILTER } from "./schedulerInstance.ts";
export { STATUS_FILTER } from "./status.ts";
export { TARGET_FILTER } from "./target.ts";
export { Verdicts } from "./filter.ts";
export type { Filter, RejectionDetails, RejectionFacts } from "./filter.ts";

export const FILTERS: readonly Filter[] = [
  targetFilter,
  excludeFilter,
  statusFilter,
  schedulerInstanceFilter,
  projectGroupsFilter,
  architectureFilter,
  resourcesFilter,
];

/**
 * Runs the chain. `list[0..count)` holds the slots still in the running; each filter narrows it
 * in place, records every member it drops in `verdicts` under its id (index + 1), and returns the
 * new count. A member dropped early is never looked at again, and a filter the request cannot
 * trip (no target, unrestricted project, any architecture, nothing requested, everyone Online)
 * returns at once. Returns how many members passed; they are list[0..result), in slot order.
 * Re-checking one member is the same call with a one-slot list.
 */
export function applyFilters(
  filters: readonly Filter[], p: PreparedRequest, list: Int32Array, count: number, verdicts: Verdicts,
): number {
  if (filters.length > MAX_FILTERS) throw new Error(`A filter chain holds at most ${MAX_FILTERS} filters, got ${filters.length}`);
  let n = count;
  for (let i = 0; i < filters.length && n > 0; i++) n = filters[i].apply(p, list, n, verdicts, i + 1);
  return n;
}
