// Spread across failure domains.
//
// Puts each instance in the failure domain (rack, room, site: the member's `failure_domain`) that
// already holds the fewest instances of the same project, so losing one domain takes out as few of
// the project's instances as possible. Within that domain the built-in ranking decides: candidates
// arrive best first, and the first candidate of the emptiest domain wins. Evacuations spread the
// same way. Placements still in flight are not counted (get_instances lists created instances).
function instance_placement(request, candidate_members) {
  const domainOf = {};
  for (const member of get_cluster_members()) domainOf[member.server_name] = member.failure_domain;

  const count = {};
  for (const instance of get_instances({ project: request.project })) {
    const domain = domainOf[instance.location];
    if (domain !== undefined) count[domain] = (count[domain] || 0) + 1;
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
