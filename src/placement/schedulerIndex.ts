/**
 * Keeps the scheduler's in-memory ClusterView in step with the store: loaded once at start, then
 * fed every published change, so a placement never re-reads the database.
 */
import type { ClusterChange, ClusterChanges } from "../cluster/changes.ts";
import { resourceRequest, rootDisk } from "../domain/instanceConfig.ts";
import type { Instance, Member, SchedulerMode } from "../domain/types.ts";
import { ClusterView, type MemberInput, type PlacedRequest } from "../scheduler/index.ts";

export const instanceKey = (project: string, name: string) => `${project}/${name}`;

export function memberInput(member: Member): MemberInput {
  const r = member.resources;
  const mode = member.config["scheduler.instance"];
  return {
    name: member.server_name,
    architecture: member.architecture,
    failureDomain: member.failure_domain,
    groups: member.groups,
    schedulerMode: (mode === "manual" || mode === "group" ? mode : "all") as SchedulerMode,
    status: member.status,
    cpuTotal: r?.cpu.total ?? 0,
    memoryTotal: r?.memory.total ?? 0,
    memoryUsed: r?.memory.used ?? 0,
    pools: r?.storage.pools ?? {},
    gpuTotal: r?.gpu.total ?? 0,
    load1m: r?.load.average_1m ?? 0,
  };
}

export function placedRequest(instance: Pick<Instance, "config" | "devices">): PlacedRequest {
  return { ...resourceRequest(instance), pool: rootDisk(instance.devices)?.pool };
}

const signature = (r: PlacedRequest) => `${r.cpu}|${r.memory}|${r.disk}|${r.gpu}|${r.pool ?? ""}`;

export class SchedulerIndex {
  /** instance key → the resources it was accounted with, to notice a change of limits. */
  private readonly accounted = new Map<string, string>();

  constructor(readonly view: ClusterView, changes: ClusterChanges, members: Member[], instances: Instance[]) {
    for (const member of members) this.view.upsertMember(memberInput(member));
    for (const instance of instances) this.onInstance(instance);
    changes.subscribe((change) => this.apply(change));
  }

  private apply(change: ClusterChange): void {
    switch (change.kind) {
      case "member":
        this.view.upsertMember(memberInput(change.member));
        break;
      case "member-removed":
        this.view.removeMember(change.name);
        break;
      case "instance":
        this.onInstance(change.instance);
        break;
      case "instance-removed": {
        const key = instanceKey(change.project, change.name);
        this.view.removeInstance(key);
        this.accounted.delete(key);
        break;
      }
      default:
        break; // groups and projects reach the view through the members they change
    }
  }

  private onInstance(instance: Instance): void {
    const key = instanceKey(instance.project, instance.name);
    const request = placedRequest(instance);
    const sig = signature(request);
    const location = this.view.instanceLocation(key);
    if (location !== undefined && this.accounted.get(key) === sig) {
      if (location !== instance.location) this.view.moveInstance(key, instance.location);
      return;
    }
    this.view.addInstance(key, instance.location, request);
    this.accounted.set(key, sig);
  }
}
