/** A project with restricted.cluster.groups may only place on members of those groups. */
import type { PreparedRequest } from "../prepared.ts";
import type { Filter, RejectionFacts, Verdicts } from "./filter.ts";

export const PROJECT_GROUPS_FILTER = "project-groups";

function apply(p: PreparedRequest, list: Int32Array, count: number, verdicts: Verdicts, id: number): number {
  const masks = p.allowedGroupMasks;
  if (masks === null) return count;
  const by = verdicts.by;
  let kept = 0;
  for (let k = 0; k < count; k++) {
    const slot = list[k];
    let allowed = false;
    for (let g = 0; g < masks.length && !allowed; g++) allowed = slot < masks[g].length && masks[g][slot] === 1;
    if (allowed) list[kept++] = slot;
    else by[slot] = id;
  }
  return kept;
}

function describe(f: RejectionFacts): string {
  const allowed = f.request.allowedGroups ?? [];
  const project = `project "${f.request.project}"`;
  const memberGroups = f.info.groups.length > 0 ? f.info.groups.join(", ") : "no group";
  if (allowed.length === 0) return `${project} may not use any cluster group (restricted.cluster.groups)`;
  return `${project} may only use groups ${allowed.join(", ")} (restricted.cluster.groups); member is in ${memberGroups}`;
}

export const projectGroupsFilter: Filter = { name: PROJECT_GROUPS_FILTER, apply, describe };
