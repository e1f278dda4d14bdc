// Refuse evacuation to loaded members.
//
// When a member is evacuated (or healed), its instances must not pile onto members that are
// already busy. For reason "evacuation" a candidate whose 5-minute load average per CPU is above
// LOAD_PER_CPU_MAX is skipped (the member's state report is used, its resources as a fallback),
// and the best-ranked remaining candidate wins; when every candidate is loaded the placement is
// rejected, so the operator sees why. New placements and relocations are left to the built-in ranking.
const LOAD_PER_CPU_MAX = 0.8;

function loadPerCpu(member) {
  const state = get_cluster_member_state(member.server_name);
  if (state && state.sysinfo.logical_cpus > 0) {
    return state.sysinfo.load_averages[1] / state.sysinfo.logical_cpus;
  }
  const r = member.resources;
  if (r && r.cpu.total > 0) return r.load.average_5m / r.cpu.total;
  return 0; // nothing reported: do not hold it against the member
}

function instance_placement(request, candidate_members) {
  if (request.reason !== "evacuation") return;
  for (const member of candidate_members) {
    const load = loadPerCpu(member);
    if (load <= LOAD_PER_CPU_MAX) {
      set_target(member.server_name);
      return;
    }
    log_warn("evacuation: skipping ", member.server_name, ", load per CPU ", load.toFixed(2));
  }
  return `Every candidate member is above ${LOAD_PER_CPU_MAX} load per CPU; not evacuating ${request.name} onto a loaded member`;
}
