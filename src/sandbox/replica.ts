/**
 * The cluster data the scriptlet helpers read, kept in each worker (and mirrored on the main thread
 * to seed new workers). Updated by ordered deltas; answers helper queries with memoised JSON so
 * a repeated query costs a map lookup.
 */
import type { Member, MemberStateReport, Project } from "../domain/types.ts";
import { Counts } from "./counts.ts";
import type { PendingPlacement, ReplicaDelta, ReplicaSnapshot, ScriptletInstance } from "./types.ts";

interface MemberEntry {
  member: Member;
  slot: number; // stable small integer per member name: how sessions index their frozen copies
  version: number; // changes whenever the member changes; sessions cache frozen copies by it
  json: string | null;
}

/** An instance with the version sessions cache its frozen copy by (see instanceSync.ts). */
export interface InstanceEntry {
  key: string;
  instance: ScriptletInstance;
  version: number;
  json: string | null;
}

/** Keeps only what get_instances returns, so a full Instance can be passed in. */
function trimInstance(i: ScriptletInstance): ScriptletInstance {
  return {
    name: i.name, project: i.project, type: i.type, location: i.location, status: i.status,
    config: i.config, devices: i.devices,
  };
}

const instanceKey = (project: string, name: string): string => `${project}/${name}`;

/** The instance as JSON (cached until it changes). */
export function instanceJson(e: InstanceEntry): string {
  e.json ??= JSON.stringify(e.instance);
  return e.json;
}
const matches = (value: string, filter: string): boolean => filter === "" || value === filter;

export class Replica {
  private readonly members = new Map<string, MemberEntry>();
  private readonly states = new Map<string, MemberStateReport>();
  private readonly instances = new Map<string, InstanceEntry>();
  private readonly pending = new Map<string, PendingPlacement>();
  private readonly projects = new Map<string, Project>();
  private readonly slots = new Map<string, number>(); // kept across removal so a name keeps its slot
  private readonly atSlot: (MemberEntry | undefined)[] = []; // slot -> the member there now
  private nextVersion = 1;
  private readonly counts = new Counts();
  /** Bumped on any member change (member lists), any instance change, any instance or pending change (counts). */
  membersVersion = 0;
  instancesVersion = 0;
  countsVersion = 0;
  private readonly memo = new Map<string, { version: number; value: unknown }>();

  constructor(snapshot?: ReplicaSnapshot) {
    if (snapshot) this.reset(snapshot);
  }

  reset(s: ReplicaSnapshot): void {
    this.members.clear();
    this.atSlot.length = 0;
    this.states.clear();
    this.instances.clear();
    this.pending.clear();
    this.projects.clear();
    this.counts.clear();
    for (const member of s.members) this.apply({ kind: "member.upsert", member });
    for (const [name, state] of Object.entries(s.member_states)) if (state) this.states.set(name, state);
    for (const instance of s.instances) this.apply({ kind: "instance.upsert", instance });
    for (const placement of s.pending) this.apply({ kind: "pending.add", placement });
    for (const project of s.projects) this.projects.set(project.name, project);
    this.bumpAll();
  }

  snapshot(): ReplicaSnapshot {
    return {
      members: [...this.members.values()].map((e) => e.member),
      member_states: Object.fromEntries(this.states),
      instances: [...this.instances.values()].map((e) => e.instance),
      pending: [...this.pending.values()],
      projects: [...this.projects.values()],
    };
  }

  apply(d: ReplicaDelta): void {
    switch (d.kind) {
      case "member.upsert": {
        const name = d.member.server_name;
        let slot = this.slots.get(name);
        if (slot === undefined) this.slots.set(name, (slot = this.slots.size));
        const entry: MemberEntry = { member: d.member, slot, version: this.nextVersion++, json: null };
        this.members.set(name, entry);
        while (this.atSlot.length < slot) this.atSlot.push(undefined); // dense
        this.atSlot[slot] = entry;
        this.membersVersion++;
        return;
      }
      case "member.remove": {
        const slot = this.slots.get(d.name);
        if (slot !== undefined) this.atSlot[slot] = undefined;
        this.members.delete(d.name);
        this.states.delete(d.name);
        this.membersVersion++;
        return;
      }
      case "member_state.set":
        if (d.state === null) this.states.delete(d.name);
        else this.states.set(d.name, d.state);
        return;
      case "instance.upsert": {
        const key = instanceKey(d.instance.project, d.instance.name);
        this.uncount(this.instances.get(key)?.instance, false);
        const trimmed = trimInstance(d.instance);
        this.instances.set(key, { key, instance: trimmed, version: this.nextVersion++, json: null });
        this.counts.add(trimmed.project, trimmed.location, false, 1);
        this.instancesVersion++;
        this.countsVersion++;
        return;
      }
      case "instance.remove": {
        const key = instanceKey(d.project, d.name);
        this.uncount(this.instances.get(key)?.instance, false);
        this.instances.delete(key);
        this.instancesVersion++;
        this.countsVersion++;
        return;
      }
      case "pending.add":
        this.uncount(this.pending.get(d.placement.id), true);
        this.pending.set(d.placement.id, d.placement);
        this.counts.add(d.placement.project, d.placement.location, true, 1);
        this.countsVersion++;
        return;
      case "pending.remove":
        this.uncount(this.pending.get(d.id), true);
        this.pending.delete(d.id);
        this.countsVersion++;
        return;
      case "project.upsert":
        this.projects.set(d.project.name, d.project);
        return;
      case "project.remove":
        this.projects.delete(d.name);
        return;
    }
  }

  private uncount(old: { project: string; location: string } | undefined, pending: boolean): void {
    if (old) this.counts.add(old.project, old.location, pending, -1);
  }

  private bumpAll(): void {
    this.membersVersion++;
    this.instancesVersion++;
    this.countsVersion++;
  }

  hasMember(name: string): boolean {
    return this.members.has(name);
  }

  memberVersion(name: string): number {
    return this.members.get(name)?.version ?? 0;
  }

  /** The member's slot, or -1 when unknown. */
  memberSlot(name: string): number {
    return this.members.get(name)?.slot ?? -1;
  }

  /** The slot a name has or had (slots are never reused), or -1 when never seen. */
  slotOf(name: string): number {
    return this.slots.get(name) ?? -1;
  }

  /** The name of the member in `slot` now, or null when there is none. */
  nameAt(slot: number): string | null {
    return this.atSlot[slot]?.member.server_name ?? null;
  }

  /** The member as JSON (cached until it changes), or null when unknown. */
  memberJson(name: string): string | null {
    const entry = this.members.get(name);
    if (!entry) return null;
    entry.json ??= JSON.stringify(entry.member);
    return entry.json;
  }

  member(name: string): Member | null {
    return this.members.get(name)?.member ?? null;
  }

  memberState(name: string): MemberStateReport | null {
    return this.states.get(name) ?? null;
  }

  project(name: string): Project | null {
    return this.projects.get(name) ?? null;
  }

  private memoised<T>(key: string, version: number, compute: () => T): T {
    const hit = this.memo.get(key);
    if (hit && hit.version === version) return hit.value as T;
    if (this.memo.size > 4096) this.memo.clear(); // bound: filters are few, but names are caller-chosen
    const value = compute();
    this.memo.set(key, { version, value });
    return value;
  }

  /** Every member name, unsorted (cheap). */
  allMemberNames(): Iterable<string> {
    return this.members.keys();
  }

  /** Member names (sorted) in a group, or all when group is "". */
  memberNames(group: string): string[] {
    return this.memoised(`m\0${group}`, this.membersVersion, () =>
      [...this.members.values()]
        .filter((e) => group === "" || e.member.groups.includes(group))
        .map((e) => e.member.server_name)
        .sort());
  }

  /** The matching instances ("" filter = any), memoised until instances change. */
  instanceEntries(project: string, location: string): InstanceEntry[] {
    return this.memoised(`i\0${project}\0${location}`, this.instancesVersion, () => {
      const found: InstanceEntry[] = [];
      for (const e of this.instances.values()) {
        if (matches(e.instance.project, project) && matches(e.instance.location, location)) found.push(e);
      }
      return found;
    });
  }

  /** JSON array of the matching instances ("" filter = any). */
  instancesJson(project: string, location: string): string {
    return `[${this.instanceEntries(project, location).map((e) => instanceJson(e)).join(",")}]`;
  }

  hasInstance(key: string): boolean {
    return this.instances.has(key);
  }

  instanceCount(project: string, location: string, pending: boolean): number {
    return this.counts.count(project, location, pending);
  }

  /** JSON {"location": n} of instanceCount(project, location, pending) for every location with any. */
  instanceCountsJson(project: string, pending: boolean): string {
    return this.memoised(`n\0${project}\0${pending ? 1 : 0}`, this.countsVersion, () => this.counts.byLocationJson(project, pending));
  }
}
