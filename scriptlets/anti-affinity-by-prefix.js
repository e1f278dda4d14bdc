// Anti-affinity by name prefix.
//
// Instances whose names share a prefix (everything up to the last "-": web-1, web-2, web-3) are
// replicas of one service, and two replicas never share a member. Among the candidates without a
// replica the built-in ranking decides; when every candidate already runs one, the placement is
// rejected. Names without a "-" are unconstrained. The instance being moved does not count itself.
function instance_placement(request, candidate_members) {
  const cut = request.name.lastIndexOf("-");
  if (cut <= 0) return;
  const prefix = request.name.slice(0, cut + 1);

  const taken = new Set();
  for (const instance of get_instances({ project: request.project })) {
    if (instance.name !== request.name && instance.name.startsWith(prefix)) taken.add(instance.location);
  }
  const free = candidate_members.find((m) => !taken.has(m.server_name));
  if (!free) return `Every candidate member already runs an instance named ${prefix}*`;
  set_target(free.server_name);
}
