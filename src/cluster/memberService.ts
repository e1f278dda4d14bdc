/** Cluster members: registration, updates, removal, heartbeats, and the API view with derived status. */
import { badRequest, conflict, notFound } from "../domain/errors.ts";
import { checkName } from "../domain/names.ts";
import type { Member, MemberAgent, MemberLifecycle, MemberRecord, MemberResources, MemberStateReport } from "../domain/types.ts";
import type { EventBus } from "../events/bus.ts";
import { deriveLiveness } from "../domain/liveness.ts";
import type { Heartbeat, NewMember, Store } from "../store/store.ts";
import type { ClusterChanges } from "./changes.ts";
import type { ConfigService } from "./configService.ts";
import type { GroupCache } from "./groupCache.ts";

export const SCHEDULER_MODES = ["all", "manual", "group"] as const;

export interface MemberInput {
  server_name: string;
  url?: string;
  architecture?: string;
  failure_domain?: string;
  description?: string;
  roles?: string[];
  groups?: string[];
  config?: Record<string, string>;
  resources?: MemberResources | null;
}

export type MemberUpdate = Partial<Omit<MemberInput, "server_name" | "resources">>;

/** Member config keys: scheduler.instance and free-form user.* keys. */
export function validateMemberConfig(config: Record<string, string>): void {
  for (const [key, value] of Object.entries(config)) {
    if (key === "scheduler.instance") {
      if (!(SCHEDULER_MODES as readonly string[]).includes(value)) {
        throw badRequest(`config["scheduler.instance"] must be one of ${SCHEDULER_MODES.join(", ")}, got ${JSON.stringify(value)}`);
      }
    } else if (!key.startsWith("user.")) {
      throw badRequest(`Unknown member configuration key config["${key}"] (known: scheduler.instance, user.*)`);
    }
  }
}

/** PATCH semantics for config maps: given keys replace, an empty value removes the key (as `lxc config unset`). */
export function mergeConfig(current: Record<string, string>, patch: Record<string, string>): Record<string, string> {
  return withoutUnset({ ...current, ...patch });
}

/** A config map without its empty values: "" means "not set" (LXD clients unset a key by sending it empty). */
export function withoutUnset(config: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(config).filter(([, value]) => value !== ""));
}

/**
 * Heartbeats are written in batches at most this long after they arrive (each agent sends one a
 * second: one transaction per batch rather than one per heartbeat). Until then this service answers
 * with them as if written; a crash loses at most this much of them, which only makes members look
 * older (docs/healing.md: the fence margin covers it).
 */
export const HEARTBEAT_WRITE_DELAY_MS = 250;

function applyHeartbeat(record: MemberRecord, beat: Heartbeat): MemberRecord {
  return {
    ...record, last_heartbeat: new Date(beat.at).toISOString(), resources: beat.resources ?? record.resources, member_state: beat.state ?? record.member_state,
  };
}

export class MemberService {
  /** Heartbeats not yet written, and the batch being written (both read as if stored). */
  private unwritten = new Map<string, Heartbeat>();
  private writing = new Map<string, Heartbeat>();
  private writeTimer: NodeJS.Timeout | null = null;
  private written: Promise<void> = Promise.resolve();
  /** Bumped by every other write to a member: a heartbeat that sees it change re-reads before publishing. */
  private memberWrites = 0;
  /**
   * Stored records as last read (each agent's heartbeat reads its member, and the liveness sweep
   * lists them all, every second); see cacheRecords. `complete`: every member is in it, except
   * those in `stale` (written since), which are read again.
   */
  private records = new Map<string, MemberRecord>();
  private complete = false;
  private readonly stale = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly groups: GroupCache,
    private readonly config: ConfigService,
    private readonly bus: EventBus,
    private readonly changes: ClusterChanges,
    private readonly now: () => number,
    /** Placements and moves in flight towards a member (the scheduler's reservations). */
    private readonly reservationsOn: (member: string) => number,
    /** The member's agent, when one reports for it. */
    private readonly agentOf: (member: string) => MemberAgent | null = () => null,
    /** Why healing is held back (the partition guard), shown on Offline members; null when it is not. */
    private readonly healingHeld: () => string | null = () => null,
    /**
     * Whether this service is the only writer of member rows (one service on its SQLite store), so
     * that records read once can be kept until it changes them. Replicas sharing a database read
     * every time: another replica may have changed the row.
     */
    private readonly cacheRecords = false,
    /** A batch of heartbeats could not be written (it is tried again with the next). */
    private readonly onWriteError: (err: unknown) => void = () => {},
  ) {}

  /** After a write to a member's row: records read before it are stale. */
  private wrote(name: string): void {
    this.memberWrites++;
    this.records.delete(name);
    if (this.complete) this.stale.add(name);
  }

  async list(): Promise<Member[]> {
    return (await this.listRecords()).map((r) => this.view(this.latest(r)));
  }

  /** Every stored record, in name order. */
  private async listRecords(): Promise<MemberRecord[]> {
    if (this.complete && this.stale.size === 0) return [...this.records.values()];
    const writes = this.memberWrites;
    const all = await this.store.listMembers();
    if (this.cacheRecords && writes === this.memberWrites) {
      this.records = new Map(all.map((r) => [r.server_name, r]));
      this.complete = true;
      this.stale.clear();
    }
    return all;
  }

  async get(name: string): Promise<Member> {
    return this.view(await this.record(name));
  }

  async record(name: string): Promise<MemberRecord> {
    const record = await this.find(name);
    if (!record) throw notFound(`Cluster member "${name}" not found`);
    return record;
  }

  /** The stored record (with its latest heartbeat, written or not), or undefined when there is no such member. */
  async find(name: string): Promise<MemberRecord | undefined> {
    let record = this.records.get(name);
    if (!record && !(this.complete && !this.stale.has(name))) {
      const writes = this.memberWrites;
      record = await this.store.getMember(name);
      // Kept only when no write landed while it was read (the row may be older than that write);
      // once read again, a written member is in order again (the map is re-sorted with it).
      if (this.cacheRecords && writes === this.memberWrites) {
        if (record) this.records.set(name, record);
        if (this.stale.delete(name)) this.records = new Map([...this.records].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      }
    }
    return record && this.latest(record);
  }

  /**
   * A stored record with the heartbeat this service received and has not written yet, if any (a
   * check against the stored truth counts the member's latest resources); reads nothing.
   */
  latest(record: MemberRecord): MemberRecord {
    const beat = this.unwritten.get(record.server_name) ?? this.writing.get(record.server_name);
    return beat ? applyHeartbeat(record, beat) : record;
  }

  /** Writes the heartbeats not yet written (the batch timer does it; close calls it). */
  writeHeartbeats(): Promise<void> {
    if (this.writeTimer) clearTimeout(this.writeTimer);
    this.writeTimer = null;
    this.written = this.written.then(async () => {
      if (this.unwritten.size === 0) return;
      this.writing = this.unwritten;
      this.unwritten = new Map();
      try {
        await this.store.recordHeartbeats([...this.writing.values()]);
        // The kept records as now stored; a read that began before this write is not kept.
        this.memberWrites++;
        for (const beat of this.writing.values()) {
          const kept = this.records.get(beat.name);
          if (kept) this.records.set(beat.name, applyHeartbeat(kept, beat));
        }
      } catch (err) {
        this.onWriteError(err);
        // Tried again with the next batch, unless a newer heartbeat replaced it.
        for (const [name, beat] of this.writing) if (!this.unwritten.has(name)) this.unwritten.set(name, beat);
        this.scheduleWrite();
      } finally {
        this.writing = new Map();
      }
    });
    return this.written;
  }

  private scheduleWrite(): void {
    if (this.writeTimer) return;
    this.writeTimer = setTimeout(() => void this.writeHeartbeats(), HEARTBEAT_WRITE_DELAY_MS);
    this.writeTimer.unref();
  }

  async exists(name: string): Promise<boolean> {
    return (await this.store.getMember(name)) !== undefined;
  }

  async create(input: MemberInput): Promise<Member> {
    const name = checkName("server_name", input.server_name);
    if (await this.store.getMember(name)) throw conflict(`Cluster member "${name}" already exists`);
    const groups = this.groups.checkGroups(["default", ...(input.groups ?? [])]);
    const config = withoutUnset(input.config ?? {});
    validateMemberConfig(config);
    const record: NewMember = {
      server_name: name,
      url: input.url ?? "",
      architecture: input.architecture ?? input.resources?.cpu.architecture ?? "x86_64",
      failure_domain: input.failure_domain ?? "default",
      description: input.description ?? "",
      roles: input.roles ?? [],
      config,
      groups,
      resources: input.resources ?? null,
    };
    await this.store.insertMember(record, this.now());
    this.wrote(name);
    await this.groups.load();
    const member = await this.get(name);
    this.changes.publish({ kind: "member", member });
    this.bus.lifecycle("cluster-member-added", `/1.0/cluster/members/${name}`);
    return member;
  }

  /** PATCH merges (config keys merge too); PUT (replace) sets every writable field. */
  async update(name: string, input: MemberUpdate, replace: boolean): Promise<Member> {
    const current = await this.record(name);
    const config = replace ? withoutUnset(input.config ?? {}) : mergeConfig(current.config, input.config ?? {});
    validateMemberConfig(config);
    const groups = input.groups !== undefined ? this.groups.checkGroups(input.groups) : replace ? ["default"] : undefined;
    await this.store.transaction(async (tx) => {
      await tx.updateMember(name, {
        url: input.url ?? (replace ? "" : undefined),
        architecture: input.architecture,
        failure_domain: input.failure_domain ?? (replace ? "default" : undefined),
        description: input.description ?? (replace ? "" : undefined),
        roles: input.roles ?? (replace ? [] : undefined),
        config,
      });
      if (groups) await tx.setMemberGroups(name, groups);
    });
    this.wrote(name);
    if (groups) await this.groups.load();
    return this.publish(name, "cluster-member-updated");
  }

  /**
   * Removes a member, its agent tokens and its join tokens; refuses while it still hosts instances (naming
   * them) or while placements or moves towards it are in flight.
   */
  async remove(name: string): Promise<void> {
    await this.record(name);
    const pending = this.reservationsOn(name);
    if (pending > 0) {
      throw conflict(`Cluster member "${name}" has ${pending} placement(s) or move(s) in flight towards it; wait for them to finish`);
    }
    const hosted = await this.store.listInstances({ location: name });
    if (hosted.length > 0) {
      const names = hosted.slice(0, 20).map((i) => `${i.project}/${i.name}`).join(", ");
      const more = hosted.length > 20 ? ` and ${hosted.length - 20} more` : "";
      throw conflict(
        `Cluster member "${name}" still hosts ${hosted.length} instance(s): ${names}${more}; evacuate or move them first`,
      );
    }
    // Its join tokens stay, revoked, so that an agent still holding one is told why it cannot join.
    await this.store.transaction(async (tx) => {
      await tx.revokeJoinTokens({ member: name }, "member removed", this.now());
      await tx.deleteMember(name);
    });
    this.wrote(name);
    this.unwritten.delete(name);
    await this.groups.load();
    this.changes.publish({ kind: "member-removed", name });
    this.bus.lifecycle("cluster-member-removed", `/1.0/cluster/members/${name}`);
  }

  /**
   * Records a heartbeat (with the resources and state it reported, if any; `resources` may be
   * worked out from the stored record, e.g. completed for its architecture). It is written with the
   * next batch (HEARTBEAT_WRITE_DELAY_MS). When another write to a member landed while the record
   * was read, it is read again before the member is published, so that the scheduler's view never
   * goes back to an older lifecycle state.
   */
  async heartbeat(
    name: string, resources: MemberResources | null | ((record: MemberRecord) => MemberResources | null), state: MemberStateReport | null,
  ): Promise<Member> {
    let writes = this.memberWrites;
    let record = await this.record(name);
    const reported = typeof resources === "function" ? resources(record) : resources;
    const earlier = this.unwritten.get(name);
    this.unwritten.set(name, { name, at: this.now(), resources: reported ?? earlier?.resources ?? null, state: state ?? earlier?.state ?? null });
    this.scheduleWrite();
    record = this.latest(record);
    while (writes !== this.memberWrites) {
      writes = this.memberWrites;
      record = await this.record(name);
    }
    const member = this.view(record);
    this.changes.publish({ kind: "member", member });
    return member;
  }

  async setLifecycle(name: string, state: MemberLifecycle): Promise<Member> {
    await this.store.setMemberLifecycle(name, state);
    this.wrote(name);
    return this.publish(name, undefined);
  }

  /** LXD api.ClusterMemberState: the last report, or one derived from declared resources. */
  async state(name: string): Promise<MemberStateReport> {
    const record = await this.record(name);
    if (record.member_state) return record.member_state;
    const r = record.resources;
    const pools: MemberStateReport["storage_pools"] = {};
    for (const [pool, space] of Object.entries(r?.storage.pools ?? {})) pools[pool] = { space: { ...space } };
    return {
      sysinfo: {
        uptime: 0,
        load_averages: r ? [r.load.average_1m, r.load.average_5m, r.load.average_15m] : [0, 0, 0],
        total_ram: r?.memory.total ?? 0,
        free_ram: r ? r.memory.total - r.memory.used : 0,
        processes: r?.load.processes ?? 0,
        logical_cpus: r?.cpu.total ?? 0,
      },
      storage_pools: pools,
    };
  }

  /** The member as the API shows it: status and message derived now. */
  view(record: MemberRecord): Member {
    const groups = this.groups.ofMember(record.server_name);
    const heartbeat = record.last_heartbeat === null ? null : Date.parse(record.last_heartbeat);
    const live = deriveLiveness(record.state, heartbeat, this.now(), this.config.get()["cluster.offline_threshold"]);
    return {
      server_name: record.server_name,
      url: record.url,
      architecture: record.architecture,
      failure_domain: record.failure_domain,
      description: record.description,
      roles: record.roles,
      groups,
      config: record.config,
      status: live.status,
      message: live.status === "Offline" && this.healingHeld() ? `${live.message}; healing held back: ${this.healingHeld()}` : live.message,
      last_heartbeat: record.last_heartbeat,
      resources: record.resources,
      agent: this.agentOf(record.server_name),
    };
  }

  private async publish(name: string, action: string | undefined): Promise<Member> {
    const member = await this.get(name);
    this.changes.publish({ kind: "member", member });
    if (action) this.bus.lifecycle(action, `/1.0/cluster/members/${name}`);
    return member;
  }

}
