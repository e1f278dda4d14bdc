// Keep a project inside one cluster group.
//
// The group is the project's "user.placement_group" config key when set. Otherwise it is the group
// (other than "default") of the members already running the project's instances, so a project
// stays wherever its first instance landed. Only candidates in that group are considered (best
// ranked first); if none is left the placement is rejected instead of leaking out of the group.
// A project with neither the key nor instances in a group is placed by the built-in ranking.
function projectGroup(request) {
  const project = get_project(request.project);
  if (project.config["user.placement_group"]) return project.config["user.placement_group"];

  const groupsOf = {};
  for (const member of get_cluster_members()) {
    groupsOf[member.server_name] = member.groups.filter((g) => g !== "default");
  }
  const used = get_instances({ project: request.project })
    .map((instance) => groupsOf[instance.location] || [])
    .filter((groups) => groups.length > 0)
    .map((groups) => groups[0])
    .sort();
  return used.length > 0 ? used[0] : null;
}

function instance_placement(request, candidate_members) {
  const group = projectGroup(request);
  if (group === null) return;
  const inGroup = candidate_members.filter((m) => m.groups.includes(group));
  if (inGroup.length === 0) {
    return `Project ${request.project} is kept in cluster group ${group}, which has no candidate member for ${request.name}`;
  }
  set_target(inGroup[0].server_name);
}
