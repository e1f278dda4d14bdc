/** Pieces the members table and a member's page share: usage bars, agent, maintenance buttons and progress. */
import { useState } from "preact/hooks";
import type { Instance, Member, Operation, TokenInfo } from "../../../src/domain/types.ts";
import { Action } from "../components/Action.tsx";
import { Bar } from "../components/Bar.tsx";
import { OperationProgress } from "../components/OperationProgress.tsx";
import { isFinished } from "../cluster.ts";
import type { MemberUsage } from "../allocation.ts";
import { useCluster } from "../context.ts";
import { ago, cores, size } from "../format.ts";
import { MaintenanceDialog, type MaintenanceAction } from "./MaintenanceDialog.tsx";

export function UsageBars({ member, usage }: { member: string; usage: MemberUsage | undefined }) {
  if (!usage || usage.cpu.capacity === 0) return <span class="muted">no resources reported</span>;
  return (
    <div class="bars">
      <CpuBar member={member} usage={usage} />
      <MemoryBar member={member} usage={usage} />
      <LoadBar member={member} usage={usage} />
    </div>
  );
}

export const CpuBar = ({ member, usage }: { member: string; usage: MemberUsage }) => (
  <Bar name="cpu" label={`CPU allocated on ${member}`} value={usage.cpu.allocated} max={usage.cpu.capacity}
    text={`${cores(usage.cpu.allocated)} / ${cores(usage.cpu.capacity)} cores`}
    title={`CPU: ${cores(usage.cpu.allocated)} cores requested by instances of a capacity of ${cores(usage.cpu.capacity)} (cpus × scheduler.cpu_allocation_ratio)`} />
);

export const MemoryBar = ({ member, usage }: { member: string; usage: MemberUsage }) => (
  <Bar name="mem" label={`Memory allocated on ${member}`} value={usage.memory.allocated} max={usage.memory.capacity}
    text={`${size(usage.memory.allocated)} / ${size(usage.memory.capacity)}`}
    title={`Memory: ${size(usage.memory.allocated)} requested by instances of a capacity of ${size(usage.memory.capacity)} (memory × scheduler.memory_allocation_ratio)`} />
);

export const LoadBar = ({ member, usage }: { member: string; usage: MemberUsage }) =>
  usage.load ? (
    <Bar name="load" label={`Load on ${member}`} value={usage.load.average} max={usage.load.cpus}
      text={`load ${usage.load.average.toFixed(2)} / ${usage.load.cpus} cpus`}
      title={`Reported 1-minute load average ${usage.load.average.toFixed(2)} on ${usage.load.cpus} cpus`} />
  ) : <span class="muted">no load reported</span>;

/**
 * How the member is kept alive: the embedded local member, its berth agent (driver and version,
 * as the agent reports them), an agent token bound to it that no agent has used yet, or heartbeats
 * posted to the API by something else.
 */
export function agentOf(member: Member, tokens: TokenInfo[]): { label: string; title: string } {
  if (member.roles.includes("local")) return { label: "embedded", title: "The local member, run inside berth serve" };
  if (member.agent) {
    return { label: `agent · ${member.agent.driver}`, title: `berth agent ${member.agent.version}, driver ${member.agent.driver}, last seen ${ago(member.agent.last_seen)}` };
  }
  if (tokens.some((t) => t.role === "agent" && t.member === member.server_name)) {
    return { label: "agent (not seen)", title: "An agent token is bound to this member, but no agent has reported yet" };
  }
  return { label: "none", title: "No agent: heartbeats are posted to the API (POST /1.0/cluster/members/NAME/heartbeat)" };
}

/** Instances an evacuation of the member moved away that are not back yet (a partial restore leaves some). */
export function awayFrom(member: string, instances: Instance[]): number {
  return instances.filter((i) => i.config["volatile.evacuate.origin"] === member && i.location !== member).length;
}

/** Why Evacuate or Restore does not apply to a member in its current state (null: it does). */
export function unavailableFor(member: Member, action: MaintenanceAction, busy: boolean, away = 0): string | null {
  if (busy) return `${member.server_name} is being evacuated or restored; wait for it to finish`;
  if (action === "evacuate") return member.status === "Evacuated" ? `${member.server_name} is already evacuated` : null;
  // A member in service can still be restored while instances it was evacuated of are elsewhere.
  if (member.status === "Evacuated" || (member.status !== "Evacuating" && member.status !== "Restoring" && away > 0)) return null;
  return `${member.server_name} is not evacuated: nothing to restore`;
}

/** The running (or just finished) evacuations and restores, optionally of one member. */
export function maintenanceOperations(operations: Operation[], member?: string): Operation[] {
  return operations.filter((op) => {
    const kind = /^(Evacuating|Restoring|Healing) cluster member/.test(op.description);
    if (!kind) return false;
    if (member && !(op.resources?.cluster ?? []).includes(`/1.0/cluster/members/${member}`)) return false;
    return true;
  });
}

const dismissed = new Set<string>();
const RECENT_MS = 15 * 60 * 1000;

/** Progress cards of maintenance operations running now or finished in the last minutes (until dismissed). */
export function MaintenanceProgress({ member }: { member?: string }) {
  const { operations } = useCluster();
  const [, setDismissed] = useState(0);
  const shown = maintenanceOperations(operations, member).filter((op) =>
    !isFinished(op) || (!dismissed.has(op.id) && Date.now() - Date.parse(op.updated_at) < RECENT_MS));
  if (shown.length === 0) return null;
  return (
    <section class="maintenance" aria-label="Evacuations and restores">
      {shown.map((op) => (
        <OperationProgress key={op.id} op={op} onDismiss={() => { dismissed.add(op.id); setDismissed((n) => n + 1); }} />
      ))}
    </section>
  );
}

export function MaintenanceButtons({ member, busy }: { member: Member; busy: boolean }) {
  const { instances } = useCluster();
  const [open, setOpen] = useState<MaintenanceAction | null>(null);
  const away = awayFrom(member.server_name, instances);
  return (
    <div class="row-actions">
      <Action small does="Evacuating a member" unavailable={unavailableFor(member, "evacuate", busy)} onClick={() => setOpen("evacuate")} label={`Evacuate ${member.server_name}`}>Evacuate…</Action>
      <Action small does="Restoring a member" unavailable={unavailableFor(member, "restore", busy, away)} onClick={() => setOpen("restore")} label={`Restore ${member.server_name}`}>Restore…</Action>
      {open ? <MaintenanceDialog member={member.server_name} action={open} onClose={() => setOpen(null)} /> : null}
    </div>
  );
}

/** Members with an evacuation or restore running. */
export function busyMembers(operations: Operation[]): Set<string> {
  const busy = new Set<string>();
  for (const op of maintenanceOperations(operations)) {
    if (isFinished(op)) continue;
    for (const url of op.resources?.cluster ?? []) busy.add(decodeURIComponent(url.split("/").pop() ?? ""));
  }
  return busy;
}
