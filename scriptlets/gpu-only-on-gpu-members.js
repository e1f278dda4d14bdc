// GPU instances only on GPU members, and GPU members kept for GPU work.
//
// An instance that asks for GPUs (a "gpu" device, or limits.gpu) goes to the best-ranked candidate
// reporting at least that many GPUs; when no candidate has enough, the placement is rejected with a
// message saying so. An instance without GPUs avoids GPU members as long as a candidate without
// GPUs exists, so GPU capacity stays free for the work that needs it.
function gpusWanted(request) {
  let wanted = 0;
  for (const name of Object.keys(request.devices)) {
    if (request.devices[name].type === "gpu") wanted++;
  }
  const limit = Number(request.config["limits.gpu"] || 0);
  return Math.max(wanted, limit);
}

function gpusOf(member) {
  return member.resources && member.resources.gpu ? member.resources.gpu.total : 0;
}

function instance_placement(request, candidate_members) {
  const wanted = gpusWanted(request);
  if (wanted > 0) {
    const fit = candidate_members.find((m) => gpusOf(m) >= wanted);
    if (!fit) return `No candidate member has ${wanted} GPU(s) for ${request.name}`;
    log_info("gpu: ", request.name, " needs ", wanted, " GPU(s) -> ", fit.server_name);
    set_target(fit.server_name);
    return;
  }
  const plain = candidate_members.find((m) => gpusOf(m) === 0);
  if (plain) set_target(plain.server_name);
}
