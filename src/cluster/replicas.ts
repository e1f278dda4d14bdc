/**
 * Several replicas on one database (PostgreSQL): what each replica does so that any of them
 * answers every request as if it were the only one.
 *
 * - Publishing: every committed change (ClusterChanges) and every event (EventBus) this replica
 *   makes is appended to the shared feed (a row; NOTIFY carries only its id).
 * - Following: on each notification, and once a second in case one was missed, the entries after
 *   the last one applied are read in id order; another replica's change is published here (the
 *   scheduler's view and the sandbox replica follow it as they follow local ones) after the
 *   in-memory tables it touches are re-read (config, groups, projects, pools, tokens); another
 *   replica's event is delivered to this replica's /1.0/events subscribers.
 * - Re-reading: a change's feed entry is appended just after its commit, not in its transaction,
 *   so a replica killed between the two leaves the others without that change. Whenever a replica
 *   disappears from the announced ones, or the leadership changes hands (a new epoch), each
 *   survivor re-reads what it keeps in memory from the store (deps.resync) and replays the
 *   store's members, instances and projects to its own views, after every feed entry it had.
 *   What it heard newer than the read is kept: its own changes made while the read ran, and a
 *   member's heartbeat (heartbeats are published before their batch is written).
 * - Leadership: once a second each replica tries to take the leadership (ReplicaChannel.tryLead);
 *   the one that holds it runs the background work (the liveness sweep, healing, and operations
 *   whose replica died: onLead/whileLeading), the others stop it (onFollow). That work runs as
 *   the leader of the epoch it took (asLeader): each of its writes checks the lease is still at
 *   that epoch, so a leader paused past the loss of its lease writes nothing once another replica
 *   took it; a refused write makes it step down at once.
 * - Announcing: each replica records its addresses once a second; join tokens and GET /1.0 list
 *   every replica seen in the last REPLICA_SEEN_MS.
 */
import type { BerthEvent, Member, MemberStatus } from "../domain/types.ts";
import type { EventBus } from "../events/bus.ts";
import { asLeader, leaderFence, outsideLeader, type FeedEntry, type LeaderFence, type LeaseLost, type NewFeedEntry, type ReplicaChannel, type ReplicaInfo } from "../store/store.ts";
import { changeKey, type ClusterChange, type ClusterChanges } from "./changes.ts";

export type ReplicaRole = "leader" | "follower" | "standalone";

/** What GET /1.0 and the metrics read of the replicas. */
export interface ReplicaStatus {
  self: string;
  role(): ReplicaRole;
  /** The replicas seen lately, this one included, with their roles. */
  list(): { name: string; urls: string[]; role: ReplicaRole }[];
  /** Times this replica took or lost the leadership since it started. */
  leaseChanges(): number;
  /** The leadership epoch this replica last saw (grows with each new leader). */
  epoch(): number;
  /** Times this replica re-read everything from the store (a replica disappeared, the leadership changed hands). */
  resyncs(): number;
}

/** The status of the only replica (the embedded SQLite store). */
export function standalone(self: string, urls: () => string[]): ReplicaStatus {
  return { self, role: () => "standalone", list: () => [{ name: self, urls: urls(), role: "standalone" }], leaseChanges: () => 0, epoch: () => 0, resyncs: () => 0 };
}

/** A replica is listed while it announced itself within this long. */
export const REPLICA_SEEN_MS = 5_000;
/** How often a replica announces itself, tries to take the leadership and reads the feed (tickMs overrides). */
export const REPLICA_TICK_MS = 1_000;
const FEED_KEEP_MS = 3_600_000;
/** At most this many entries in one append. */
const APPEND_BATCH = 500;

export interface ReplicaDeps {
  self: string;
  channel: ReplicaChannel;
  changes: ClusterChanges;
  bus: EventBus;
  /** This replica's URLs (known once it listens). */
  urls: () => string[];
  /** Re-reads what the services keep in memory after another replica changed it (by the event's action). */
  reload: (what: Reloaded) => Promise<void>;
  /**
   * Re-reads everything the services keep in memory, and returns what the store holds as the
   * changes that bring the views following ClusterChanges to it (placement/resync.ts).
   */
  resync: () => Promise<ClusterChange[]>;
  /** A re-read began, and why (for the log). */
  onResync: (why: string) => void;
  /** Another replica finished an operation: wake who waits for it here. */
  operationEnded: (id: string) => void;
  /** This replica took the leadership: runs as its leader (asLeader), and so does whatever it starts (timers included). */
  onLead: (epoch: number) => Promise<void>;
  /** Each tick while leading, as its leader. */
  whileLeading: () => Promise<void>;
  onFollow: () => void;
  onError: (err: unknown, what: string) => void;
  /** The groups this replica knows a member to be in. */
  groupsOf: (member: string) => string[];
  tickMs?: number;
}

const sameGroups = (a: string[], b: string[]) => a.length === b.length && a.every((g, i) => g === b[i]);

export type Reloaded = "config" | "groups" | "projects" | "pools" | "tokens" | "certificates";
/** Every in-memory table a replica reloads. */
export const RELOADED: readonly Reloaded[] = ["config", "groups", "projects", "pools", "tokens", "certificates"];

const RELOAD_BY_ACTION: [RegExp, Reloaded][] = [
  [/^config-updated$/, "config"],
  [/^cluster-group-/, "groups"],
  [/^project-/, "projects"],
  [/^storage-pool-/, "pools"],
  [/^token-/, "tokens"],
  // Trusted client certificates added or removed (the trust service caches them).
  [/^certificate-(created|deleted)$/, "certificates"],
];

export class Replicas implements ReplicaStatus {
  readonly self: string;
  private applied = 0;
  /** True while an entry from another replica is re-published here (it must not be appended again). */
  private replaying = false;
  private following: Promise<void> = Promise.resolve();
  private leading = false;
  private currentEpoch = 0;
  private changesOfLease = 0;
  private seen: ReplicaInfo[] = [];
  private leaderName: string | null = null;
  /** The lease's epoch at the last tick (null: not read yet). */
  private leaseEpoch: number | null = null;
  /** Each member as this replica's views last heard of it (its latest heartbeat may not be stored yet). */
  private readonly heard = new Map<string, Member>();
  /** While a re-read runs: what this replica published meanwhile (newer than what the re-read found). */
  private publishedDuringResync: Set<string> | null = null;
  private resyncCount = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Published and not appended yet, in order, each with the leader's fence it was published under. */
  private pending: { entry: NewFeedEntry; fence: LeaderFence | undefined }[] = [];
  /** The appends under way (one batch at a time, so the feed's ids follow this replica's order). */
  private appending: Promise<void> | null = null;

  constructor(private readonly deps: ReplicaDeps) {
    this.self = deps.self;
    deps.changes.subscribe((change) => {
      if (change.kind === "member") this.heard.set(change.member.server_name, change.member);
      else if (change.kind === "member-removed") this.heard.delete(change.name);
      this.publish("change", change);
    });
    deps.bus.subscribe((event) => this.publish("event", event));
  }

  /** Starts following from the feed's current end, then ticks. */
  async start(): Promise<void> {
    const { channel } = this.deps;
    this.applied = await channel.lastId();
    await channel.listen(() => this.follow(), (err) => {
      this.deps.onError(err, "the replica channel was lost; this replica stops leading");
      this.demote();
    });
    await this.tick();
    const every = this.deps.tickMs ?? REPLICA_TICK_MS;
    const loop = () => {
      this.timer = setTimeout(() => {
        // tick() reports its own failures; the loop goes on whatever happened.
        void this.tick().catch((err) => this.deps.onError(err, "the replicas' tick")).finally(() => { if (!this.stopped) loop(); });
      }, every);
      this.timer.unref();
    };
    loop();
  }

  /**
   * Records this replica's addresses now rather than at the next tick: the service calls it once
   * its listeners are bound (its first announcement, made while it started, had none).
   */
  async announce(): Promise<void> {
    try {
      await this.deps.channel.announce(this.self, this.deps.urls());
    } catch (err) {
      this.deps.onError(err, "announcing this replica's addresses");
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.demote();
    await this.appending;
    await this.following.catch(() => {});
  }

  role(): ReplicaRole {
    return this.leading ? "leader" : "follower";
  }

  list(): { name: string; urls: string[]; role: ReplicaRole }[] {
    const others = this.seen.filter((r) => r.id !== this.self).map((r) => ({
      name: r.id, urls: r.urls, role: (r.id === this.leaderName ? "leader" : "follower") as ReplicaRole,
    }));
    return [{ name: this.self, urls: this.deps.urls(), role: this.role() }, ...others];
  }

  /** Every replica's URLs, this one's first (for join tokens and clients). */
  allUrls(): string[] {
    return [...new Set(this.list().flatMap((r) => r.urls))];
  }

  leaseChanges(): number {
    return this.changesOfLease;
  }

  epoch(): number {
    return this.currentEpoch;
  }

  /** Times this replica re-read everything from the store since it started. */
  resyncs(): number {
    return this.resyncCount;
  }

  private publish(kind: FeedEntry["kind"], body: ClusterChange | BerthEvent): void {
    if (this.replaying || this.stopped) return;
    if (kind === "change") this.publishedDuringResync?.add(changeKey(body as ClusterChange));
    this.pending.push({ entry: { kind, body }, fence: leaderFence() });
    this.appending ??= this.appendPending();
  }

  /**
   * Appends what was published, in order: whatever was published while one append was under way
   * goes in the next, as one batch (a heal publishes thousands of entries in a few seconds). A
   * batch holds entries published under one fence (the leader's epoch, or none), and is appended
   * under it: the leader's are fenced, the others are not.
   */
  private async appendPending(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const epoch = this.pending[0].fence?.epoch;
        let n = 1;
        while (n < this.pending.length && n < APPEND_BATCH && this.pending[n].fence?.epoch === epoch) n++;
        const fence = this.pending[0].fence;
        const batch = this.pending.splice(0, n).map((p) => p.entry);
        const append = () => this.deps.channel.append(this.self, batch);
        try {
          await (fence ? asLeader(fence, append) : outsideLeader(append));
        } catch (err) {
          this.deps.onError(err, `appending ${batch.length} entries to the replicas' feed`);
        }
      }
    } finally {
      this.appending = null;
    }
  }

  /** Reads and applies what is new, one pass at a time. */
  private follow(): Promise<void> {
    this.following = this.following.then(() => this.catchUp()).catch((err) => this.deps.onError(err, "following the replicas' feed"));
    return this.following;
  }

  private async catchUp(): Promise<void> {
    for (;;) {
      const entries = await this.deps.channel.after(this.applied, 500);
      for (const entry of entries) {
        this.applied = entry.id;
        if (entry.origin !== this.self) await this.apply(entry);
      }
      if (entries.length < 500) return;
    }
  }

  private async apply(entry: FeedEntry): Promise<void> {
    if (entry.kind === "event") {
      const event = entry.body as BerthEvent;
      const action = event.type === "lifecycle" ? String((event.metadata as { action?: unknown }).action) : "";
      for (const [pattern, what] of RELOAD_BY_ACTION) if (pattern.test(action)) await this.deps.reload(what);
      if (event.type === "operation") {
        const op = event.metadata as { id?: string; status?: string };
        if (op.id && (op.status === "Success" || op.status === "Failure" || op.status === "Cancelled")) this.deps.operationEnded(op.id);
      }
      this.replay(() => this.deps.bus.deliver(event));
      return;
    }
    const change = entry.body as ClusterChange;
    // A member's change moves it between groups only when its groups differ from what this replica
    // knows (a heartbeat never does: re-reading the groups for each would keep a follower busy).
    const regroups = change.kind === "group" || change.kind === "group-removed" || change.kind === "member-removed" ||
      (change.kind === "member" && !sameGroups(change.member.groups, this.deps.groupsOf(change.member.server_name)));
    if (regroups) await this.deps.reload("groups");
    if (change.kind === "project" || change.kind === "project-removed") await this.deps.reload("projects");
    this.replay(() => this.deps.changes.publish(change));
  }

  private replay(fn: () => void): void {
    this.replaying = true;
    try {
      fn();
    } finally {
      this.replaying = false;
    }
  }

  private async tick(): Promise<void> {
    const { channel } = this.deps;
    const reasons: string[] = [];
    try {
      await channel.announce(this.self, this.deps.urls());
      const seen = await channel.listReplicas(REPLICA_SEEN_MS);
      const gone = this.seen.filter((r) => r.id !== this.self && !seen.some((s) => s.id === r.id)).map((r) => r.id);
      if (gone.length > 0) reasons.push(`replica ${gone.join(", ")} was not seen for ${REPLICA_SEEN_MS / 1000} s`);
      this.seen = seen;
      const epoch = await channel.tryLead(this.self);
      const tookLead = epoch !== null && !this.leading;
      if (tookLead) {
        this.leading = true;
        this.currentEpoch = epoch;
        this.changesOfLease++;
        this.leaderName = this.self;
      } else if (epoch === null) {
        if (this.leading) this.demote();
        const lease = await channel.lease();
        this.leaderName = lease?.holder ?? null;
        this.currentEpoch = lease?.epoch ?? this.currentEpoch;
      }
      // (From no lease at all to the first leader: nobody died.)
      if (this.leaseEpoch !== null && this.leaseEpoch !== 0 && this.currentEpoch !== this.leaseEpoch) {
        reasons.push(`the leadership changed hands (epoch ${this.leaseEpoch} → ${this.currentEpoch}, now ${this.leaderName ?? "nobody"})`);
      }
      this.leaseEpoch = this.currentEpoch;
      // A replica taking over from one that died re-reads first, then resumes the dead one's work.
      if (reasons.length > 0) await this.resync(reasons.join("; "));
      if (tookLead) await asLeader(this.fence(epoch), () => this.deps.onLead(epoch));
      if (this.leading) {
        await asLeader(this.fence(this.currentEpoch), async () => {
          await this.deps.whileLeading();
          await channel.pruneFeed(FEED_KEEP_MS);
        });
      }
    } catch (err) {
      this.deps.onError(err, "the replicas' tick");
    }
    // A missed notification costs at most one tick. Not awaited: a long catch-up must not hold back
    // the next attempt at the leadership (the bound is lease + 2 s).
    void this.follow();
  }

  /**
   * Re-reads everything from the store, after every feed entry read so far and before any later
   * one (on the feed's chain), and replays it to this replica's views, except what they heard
   * newer: what this replica published while the reads ran, and members' later heartbeats.
   */
  private resync(why: string): Promise<void> {
    this.following = this.following.then(async () => {
      this.deps.onResync(why);
      await this.catchUp();
      const published = (this.publishedDuringResync = new Set());
      try {
        for (const change of await this.deps.resync()) {
          if (published.has(changeKey(change))) continue;
          const replayed = change.kind === "member" ? { ...change, member: withLaterHeartbeat(change.member, this.heard.get(change.member.server_name)) } : change;
          this.replay(() => this.deps.changes.publish(replayed));
        }
      } finally {
        this.publishedDuringResync = null;
      }
      this.resyncCount++;
    }).catch((err) => this.deps.onError(err, `re-reading everything from the store (${why})`));
    return this.following;
  }

  /** The leadership of `epoch`: a write refused under it (another replica leads now) makes this one step down. */
  private fence(epoch: number): LeaderFence {
    return { epoch, lost: (err) => this.stepDown(epoch, err) };
  }

  private stepDown(epoch: number, err: LeaseLost): void {
    if (!this.leading || this.currentEpoch !== epoch) return; // stepped down already
    this.deps.onError(err, `a write made as the leader of epoch ${epoch} was refused: another replica leads now, so this one steps down`);
    this.demote();
    this.deps.channel.resign().catch((failed) => this.deps.onError(failed, "letting go of the leadership"));
  }

  private demote(): void {
    if (!this.leading) return;
    this.leading = false;
    this.changesOfLease++;
    this.deps.onFollow();
  }
}

const HEARTBEAT_STATUSES: ReadonlySet<MemberStatus> = new Set(["Online", "Offline", "Pending"]);

/**
 * A member as stored, with the later heartbeat this replica heard of it, if any: a heartbeat is
 * published before its batch is written, so a read of the store can be older than the feed. Its
 * lifecycle (Evacuating, …), config and groups are the store's; the heartbeat's time and
 * resources, and the status they make when the lifecycle does not decide it, are the heard one's.
 */
function withLaterHeartbeat(stored: Member, heard: Member | undefined): Member {
  if (!heard?.last_heartbeat) return stored;
  if (stored.last_heartbeat !== null && Date.parse(stored.last_heartbeat) >= Date.parse(heard.last_heartbeat)) return stored;
  const byHeartbeat = HEARTBEAT_STATUSES.has(stored.status) && HEARTBEAT_STATUSES.has(heard.status);
  return {
    ...stored, last_heartbeat: heard.last_heartbeat, resources: heard.resources,
    ...(byHeartbeat ? { status: heard.status, message: heard.message } : {}),
  };
}
