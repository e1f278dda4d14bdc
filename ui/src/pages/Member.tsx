/** One member: status, maintenance with its progress, resources (reported and allocated), its instances. */
import { Fragment } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { MemberStateReport } from "../../../src/domain/types.ts";
import { ratiosOf, usageByMember } from "../allocation.ts";
import { Notice } from "../components/Notice.tsx";
import { Status } from "../components/Status.tsx";
import { useCluster, useSession } from "../context.ts";
import { ago, cores, size } from "../format.ts";
import { Link } from "../router.tsx";
import { InstanceTable } from "./InstanceTable.tsx";
import { agentOf, busyMembers, CpuBar, LoadBar, MaintenanceButtons, MaintenanceProgress, MemoryBar } from "./memberParts.tsx";

export function MemberPage({ name }: { name: string }) {
  const { api } = useSession();
  const { members, instances, tokens, server, operations, loaded } = useCluster();
  const [state, setState] = useState<MemberStateReport | null>(null);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const member = members.find((m) => m.server_name === name);
  useEffect(() => {
    api.get<MemberStateReport>(`/1.0/cluster/members/${encodeURIComponent(name)}/state`).then(setState, () => setState(null));
  }, [api, name, member?.last_heartbeat]);
  if (!member) return <div class="page">{loaded ? <Notice>No member named {name}. <Link to="/">All members</Link></Notice> : <p class="muted">Loading…</p>}</div>;

  const usage = usageByMember([member], instances, ratiosOf(server?.effective_config)).get(name)!;
  const here = instances.filter((i) => i.location === name);
  const r = member.resources;
  const agent = agentOf(member, tokens);
  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb"><Link to="/">Members</Link> / <span aria-current="page">{name}</span></nav>
      <header class="page-head">
        <h1>{name}</h1>
        <Status status={member.status} message={member.message} />
        <div class="page-actions"><MaintenanceButtons member={member} busy={busyMembers(operations).has(name)} /></div>
      </header>
      <MaintenanceProgress member={name} />
      <div class="cards">
        <section class="card" aria-label="Member facts">
          <h2>Member</h2>
          <dl class="facts">
            <dt>Architecture</dt><dd>{member.architecture}</dd>
            <dt>Failure domain</dt><dd>{member.failure_domain}</dd>
            <dt>Groups</dt><dd>{member.groups.join(", ")}</dd>
            <dt>Roles</dt><dd>{member.roles.join(", ") || "—"}</dd>
            <dt>Agent</dt><dd title={agent.title}>{agent.label}</dd>
            <dt>Last heartbeat</dt><dd>{member.last_heartbeat ? `${ago(member.last_heartbeat)} (${member.last_heartbeat})` : "never"}</dd>
            <dt>URL</dt><dd>{member.url || "—"}</dd>
            <dt>Scheduler</dt><dd>scheduler.instance={member.config["scheduler.instance"] ?? "all"}</dd>
            {member.description ? <><dt>Description</dt><dd>{member.description}</dd></> : null}
          </dl>
        </section>
        <section class="card" aria-label="Allocation">
          <h2>Allocated</h2>
          {r ? <div class="bars bars-wide"><CpuBar member={name} usage={usage} /><MemoryBar member={name} usage={usage} /><LoadBar member={name} usage={usage} /></div> : <p class="muted">No resources reported yet.</p>}
          <p class="muted small">Requests of the instances on it against cpus × scheduler.cpu_allocation_ratio and memory × scheduler.memory_allocation_ratio.</p>
        </section>
        <section class="card" aria-label="Reported resources">
          <h2>Resources</h2>
          {r ? (
            <dl class="facts">
              <dt>CPU</dt><dd>{cores(r.cpu.total)} × {r.cpu.architecture}</dd>
              <dt>Memory</dt><dd>{size(r.memory.used)} used of {size(r.memory.total)}</dd>
              <dt>Load</dt><dd>{r.load.average_1m.toFixed(2)} · {r.load.average_5m.toFixed(2)} · {r.load.average_15m.toFixed(2)} ({r.load.processes} processes)</dd>
              <dt>GPUs</dt><dd>{r.gpu.total === 0 ? "none" : r.gpu.cards.map((c) => `${c.vendor} ${c.model}`).join(", ") || String(r.gpu.total)}</dd>
              {Object.entries(r.storage.pools).map(([pool, space]) => <Fragment key={pool}><dt>Pool {pool}</dt><dd>{size(space.used)} used of {size(space.total)}</dd></Fragment>)}
              {state && state.sysinfo.uptime > 0 ? <><dt>Uptime</dt><dd>{Math.round(state.sysinfo.uptime / 3600)} h</dd></> : null}
            </dl>
          ) : <p class="muted">No resources reported yet.</p>}
        </section>
      </div>
      <h2>Instances on {name} ({here.length})</h2>
      {message ? <Notice kind={message.error ? "error" : "info"}>{message.text}</Notice> : null}
      <InstanceTable instances={here} label={`Instances on ${name}`} onMessage={(text, error = false) => setMessage({ text, error })} />
    </div>
  );
}
