/** A project with restricted.cluster.groups may only place on members of those groups. */
import type { PreparedRequest } from "../prepared.ts";
import type { RejectionFacts } from "./facts.ts";

export const PROJECT_GROUPS_FILTER = "project-groups";

export function applyProjectGroups(p: PreparedRequest, verdicts: Uint8Array, base: number, from: number, to: number): void {
  const masks = p.allowedGroupMasks;
  if (masks === null) return;
  for (let slot = from; slot < to; slot++) {
    if (verdicts[slot] !== 0) continue;
    let allowed = false;
    for (let k = 0; k < masks.length && !allowed; k++) allowed = slot < masks[k].length && masks[k][slot] === 1;
    if (!allowed) verdicts[slot] = base + 1;
  }
}

export function describeProjectGroups(f: RejectionFacts): string {
  const allowed = f.request.allowedGroups ?? [];
  const project = `project "${f.request.project}"`;
  const memberGroups = f.info.groups.length > 0 ? f.info.groups.join(", ") : "no group";
  if (allowed.length === 0) return `${project} may not use any cluster group (restricted.cluster.groups)`;
  return `${project} may only use groups ${allowed.join(", ")} (restricted.cluster.groups); member is in ${memberGroups}`;
}
