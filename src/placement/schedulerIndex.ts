/**
 * Keeps the scheduler's in-memory ClusterView in step with the store: loaded once at start, then
 * fed every published change, so a placement never re-reads the database.
 */
import type { ClusterChange, ClusterChanges } from "../cluster/changes.ts";
import { resourceRequest, rootDisk } from "../domain/instanceConfig.ts";
import type { Instance, Member, SchedulerMode } from "../domain/types.ts";
import { ClusterView, type MemberInput, type PlacedRequest } from "../scheduler/index.ts";

export const instanceKey = (project: string, name: string) => `${project}/${name}`;

/** What the index reads of an instance. */
export type InstanceResources = Pick<Instance, "project" | "name" | "location" | "config" | "devices">;

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

/** Reads stored instances in (project, name) order, `limit` at a time after `after` (Store.listInstanceResources). */
export type InstanceReader = (after: { project: string; name: string } | null, limit: number) => Promise<InstanceResources[]>;

/** How the index loads: this many instances per read, reads for about this long per event-loop turn. */
const LOAD_CHUNK = 500;
const LOAD_SLICE_MS = 10;

export class SchedulerIndex {
  /** instance key → the resources it was accounted with, to notice a change of limits. */
  private readonly accounted = new Map<string, string>();
  /** Changes published before the stored members and instances are loaded; null once they are. */
  private queued: ClusterChange[] | null = [];
  private stopped = false;
  private release: () => void = () => {};
  private readonly started = new Promise<void>((resolve) => { this.release = resolve; });
  /** Settles once every stored member and instance is in the view (placements wait for it). */
  readonly ready: Promise<void>;

  /**
   * Follows changes from now on; start() loads the stored members and instances in the
   * background: the members in one event-loop turn, then instances LOAD_CHUNK at a time for about
   * LOAD_SLICE_MS per turn, so the service answers requests while 100,000 of them load. Changes
   * published before loading is done are applied in order afterwards: each carries the whole new
   * state of what it changed, so one that a later read already reflected changes nothing.
   */
  constructor(readonly view: ClusterView, changes: ClusterChanges, readMembers: () => Promise<Member[]>, readInstances: InstanceReader) {
    changes.subscribe((change) => {
      if (this.queued) this.queued.push(change);
      else this.apply(change);
    });
    this.ready = this.load(readMembers, readInstances);
  }

  /** Every stored member and instance is in the view: placements may read it. */
  get loaded(): boolean {
    return this.queued === null;
  }

  /** Begins loading on the next event-loop turn. */
  start(): void {
    this.release();
  }

  /** Stops loading (the store is about to close); placements still waiting then never get the view. */
  stop(): void {
    this.stopped = true;
    this.release();
  }

  private async load(readMembers: () => Promise<Member[]>, readInstances: InstanceReader): Promise<void> {
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
    await this.started;
    await nextTurn();
    if (this.stopped) return;
    for (const member of await readMembers()) this.view.upsertMember(memberInput(member));
    await nextTurn();
    if (this.stopped) return;
    let after: { project: string; name: string } | null = null;
    let sliceEnds = performance.now() + LOAD_SLICE_MS;
    for (;;) {
      // Instances read together share their config and devices objects when they ask alike
      // (Store.listInstanceResources): their request is worked out once per read and shape.
      const known = new Map<Instance["devices"], Map<Instance["config"], { request: PlacedRequest; sig: string }>>();
      const chunk = await readInstances(after, LOAD_CHUNK);
      for (const instance of chunk) {
        let byConfig = known.get(instance.devices);
        if (!byConfig) known.set(instance.devices, (byConfig = new Map()));
        let worked = byConfig.get(instance.config);
        if (!worked) {
          const request = placedRequest(instance);
          byConfig.set(instance.config, (worked = { request, sig: signature(request) }));
        }
        this.onInstance(instance, worked.request, worked.sig);
      }
      if (chunk.length < LOAD_CHUNK) break;
      after = chunk[chunk.length - 1];
      if (performance.now() >= sliceEnds) {
        await nextTurn();
        if (this.stopped) return;
        sliceEnds = performance.now() + LOAD_SLICE_MS;
      }
    }
    const queued = this.queued ?? [];
    this.queued = null;
    for (const change of queued) this.apply(change);
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

  private onInstance(instance: InstanceResources, request = placedRequest(instance), sig = signature(request)): void {
    const key = instanceKey(instance.project, instance.name);
    const location = this.view.instanceLocation(key);
    if (location !== undefined && this.accounted.get(key) === sig) {
      if (location !== instance.location) this.view.moveInstance(key, instance.location);
      return;
    }
    this.view.addInstance(key, instance.location, request);
    this.accounted.set(key, sig);
  }
}
