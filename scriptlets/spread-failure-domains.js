// Spread across failure domains.
//
// Puts each instance in the failure domain (rack, room, site: the member's `failure_domain`) that
// already holds the fewest instances of the same project, so losing one domain takes out as few of
// the project's instances as possible. Within that domain the built-in ranking decides: candidates
// arrive best first, and the first candidate of the emptiest domain wins.
//
// Placements decided but not carried out yet count too: an evacuation plans every move before any
// instance moves, and counting only created instances would send every planned move to the same
// domain. get_instances_count({..., pending: true}) counts them, one member at a time; when the
// project has none in flight, one list of its instances (get_instances) is cheaper.
function instance_placement(request, candidate_members) {
  const project = request.project;
  const inFlight = get_instances_count({ project, pending: true }) > get_instances_count({ project });

  const onMember = {}; // member -> instances of the project there (created ones, when none is in flight)
  if (!inFlight) {
    for (const instance of get_instances({ project })) onMember[instance.location] = (onMember[instance.location] || 0) + 1;
  }
  const count = {}; // failure domain -> instances of the project there
  for (const member of get_cluster_members()) {
    const location = member.server_name;
    const n = inFlight ? get_instances_count({ project, location, pending: true }) : onMember[location] || 0;
    if (n > 0) count[member.failure_domain] = (count[member.failure_domain] || 0) + n;
  }

  let best = null;
  let bestCount = Infinity;
  for (const member of candidate_members) {
    const n = count[member.failure_domain] || 0;
    if (n < bestCount) {
      best = member;
      bestCount = n;
    }
  }
  if (best === null) return; // no candidates: nothing to choose
  log_info("spread: ", request.name, " -> ", best.server_name, " (domain ", best.failure_domain, " has ", bestCount, ")");
  set_target(best.server_name);
}
