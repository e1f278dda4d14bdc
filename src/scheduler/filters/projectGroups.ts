/** A project with restricted.cluster.groups may only place on members of those groups. */
import { maskHas } from "../prepared.ts";
import type { PreparedRequest } from "../prepared.ts";
import type { RejectionFacts } from "./facts.ts";

export const PROJECT_GROUPS_FILTER = "project-groups";

export function checkProjectGroups(p: PreparedRequest, slot: number): number {
  const masks = p.allowedGroupMasks;
  if (masks === null) return 0;
  for (let k = 0; k < masks.length; k++) if (maskHas(masks[k], slot)) return 0;
  return 1;
}

/** Marks every member still passing (verdict 0) that this filter drops with `base` + detail. */
export function applyProjectGroups(p: PreparedRequest, verdicts: Uint8Array, base: number): void {
  for (let slot = 0; slot < p.size; slot++) {
    if (verdicts[slot] !== 0) continue;
    const detail = checkProjectGroups(p, slot);
    if (detail !== 0) verdicts[slot] = base + detail;
  }
}

export function describeProjectGroups(f: RejectionFacts): string {
  const allowed = f.request.allowedGroups ?? [];
  const project = `project "${f.request.project}"`;
  const memberGroups = f.info.groups.length > 0 ? f.info.groups.join(", ") : "no group";
  if (allowed.length === 0) return `${project} may not use any cluster group (restricted.cluster.groups)`;
  return `${project} may only use groups ${allowed.join(", ")} (restricted.cluster.groups); member is in ${memberGroups}`;
}
