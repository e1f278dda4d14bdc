/** The cluster at a glance: every member with its status, placement facts and resource bars. */
import { ratiosOf, usageByMember } from "../allocation.ts";
import { Status } from "../components/Status.tsx";
import { useCluster } from "../context.ts";
import { ago, plural } from "../format.ts";
import { Link } from "../router.tsx";
import { agentOf, busyMembers, MaintenanceButtons, MaintenanceProgress, UsageBars } from "./memberParts.tsx";

export function MembersPage() {
  const { members, instances, tokens, server, operations } = useCluster();
  const config = server?.effective_config ?? {};
  const usage = usageByMember(members, instances, ratiosOf(config));
  const busy = busyMembers(operations);
  const online = members.filter((m) => m.status === "Online").length;
  return (
    <div class="page">
      <header class="page-head">
        <h1>Members</h1>
        <p class="muted summary">
          {plural(members.length, "member")} · {online} online · {plural(instances.length, "instance")} · strategy {String(config["scheduler.strategy"] ?? "count")} ·
          cpu ×{String(config["scheduler.cpu_allocation_ratio"] ?? 1)} · memory ×{String(config["scheduler.memory_allocation_ratio"] ?? 1)}
        </p>
      </header>
      <MaintenanceProgress />
      <table class="table members" aria-label="Cluster members">
        <thead>
          <tr>
            <th>Member</th><th>Status</th><th>Failure domain</th><th>Groups</th><th>Agent · heartbeat</th><th class="num">Instances</th>
            <th>Allocated CPU · memory · load</th><th><span class="sr-only">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          {members.map((m) => {
            const agent = agentOf(m, tokens);
            const u = usage.get(m.server_name);
            return (
              <tr key={m.server_name} data-member={m.server_name}>
                <td><Link to={`/members/${encodeURIComponent(m.server_name)}`} class="strong">{m.server_name}</Link><div class="muted small">{m.architecture}</div></td>
                <td><Status status={m.status} message={m.message} /></td>
                <td>{m.failure_domain}</td>
                <td>{m.groups.join(", ")}</td>
                <td><span title={agent.title}>{agent.label}</span><div class="muted small" title={m.last_heartbeat ?? "no heartbeat yet"}>{ago(m.last_heartbeat)}</div></td>
                <td class="num">{u?.instances ?? 0}</td>
                <td class="bars-cell"><UsageBars member={m.server_name} usage={u} /></td>
                <td><MaintenanceButtons member={m} busy={busy.has(m.server_name)} /></td>
              </tr>
            );
          })}
          {members.length === 0 ? <tr><td colSpan={8} class="muted">No members yet: add one with <code>berth cluster add</code>.</td></tr> : null}
        </tbody>
      </table>
    </div>
  );
}
