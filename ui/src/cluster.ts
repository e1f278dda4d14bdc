/**
 * What the dashboard knows of the cluster: loaded from the API, kept current by the event stream
 * (operations are updated from their events as they come; any lifecycle event reloads the lists)
 * and by a slow poll for what changes without an event (heartbeat ages, liveness).
 */
import type {
  BerthEvent, ClusterGroup, Instance, Member, Operation, Project, StoragePool, TokenInfo, TokenRole,
} from "../../src/domain/types.ts";
import type { Api } from "./api.ts";
import { openEventStream, type StreamState } from "./events.ts";

export interface ServerInfo {
  auth_role: TokenRole;
  auth_user_name: string;
  config: Record<string, unknown>;
  effective_config: Record<string, unknown>;
  environment: { server_name: string; server_version: string };
}

export interface FeedEvent extends BerthEvent {
  /** Order of arrival, for keys. */
  seq: number;
}

export interface ClusterState {
  server: ServerInfo | null;
  members: Member[];
  instances: Instance[];
  groups: ClusterGroup[];
  projects: Project[];
  pools: StoragePool[];
  tokens: TokenInfo[];
  /** Newest first. */
  operations: Operation[];
  /** The live feed, newest first, at most FEED_LIMIT. */
  events: FeedEvent[];
  stream: StreamState;
  loaded: boolean;
  /** Why the last load failed (shown until the next one succeeds). */
  error: string | null;
}

const FEED_LIMIT = 500;
const POLL_MS = 5000;
/** Every this many polls everything is read again, whatever the events said. */
const FULL_EVERY = 6;
const RELOAD_DELAY_MS = 150;

/** What one read brings: the lists are read only when an event says they changed. */
type Part = "server" | "members" | "instances" | "catalog" | "operations";
const ALL: Part[] = ["server", "members", "instances", "catalog", "operations"];

/** The lists a lifecycle event changes (by its action); an unknown action reloads everything. */
function partsOf(action: string): Part[] {
  if (action.startsWith("instance-")) return ["instances"];
  if (action.startsWith("cluster-member-")) return ["members"];
  if (action.startsWith("cluster-group-")) return ["members", "catalog"];
  if (action.startsWith("project-") || action.startsWith("storage-pool-") || action.startsWith("token-")) return ["catalog"];
  if (action === "config-updated") return ["server"];
  return ALL;
}

export class Cluster {
  state: ClusterState = {
    server: null, members: [], instances: [], groups: [], projects: [], pools: [], tokens: [], operations: [], events: [],
    stream: "connecting", loaded: false, error: null,
  };
  private readonly listeners = new Set<() => void>();
  private closeStream: (() => void) | null = null;
  private poll: ReturnType<typeof setInterval> | null = null;
  private reloadTimer: ReturnType<typeof setTimeout> | null = null;
  private loading: Promise<void> | null = null;
  /** What the next read must bring. */
  private dirty = new Set<Part>();
  /** What a failed read did not bring: read again with the next one (not at once, which would loop on a persistent error). */
  private failed = new Set<Part>();
  private polls = 0;
  private seq = 0;

  constructor(private readonly api: Api) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    this.closeStream = openEventStream({
      headers: this.api.headers,
      onState: (stream) => {
        // Whatever happened while the stream was down is read again.
        if (stream === "live" && this.state.stream === "reconnecting") this.reloadSoon(ALL);
        this.set({ stream });
      },
      onMessage: (name, data) => this.onEvent(name, data),
    });
    // Heartbeat ages and liveness change without events: members are read on a timer, everything now and then.
    this.poll = setInterval(() => this.reloadSoon(++this.polls % FULL_EVERY === 0 ? ALL : ["members"]), POLL_MS);
    void this.reload();
  }

  stop(): void {
    this.closeStream?.();
    if (this.poll) clearInterval(this.poll);
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.listeners.clear();
  }

  /** Reads the parts named (everything by default); a call during a read reads once more after it. */
  reload(parts: Part[] = ALL): Promise<void> {
    for (const part of [...parts, ...this.failed]) this.dirty.add(part);
    this.failed.clear();
    this.loading ??= this.drain();
    return this.loading;
  }

  private async drain(): Promise<void> {
    // Never settle synchronously: `loading` is assigned before the finally below clears it.
    await Promise.resolve();
    try {
      while (this.dirty.size > 0) {
        const next = new Set(this.dirty);
        this.dirty.clear();
        await this.load(next);
      }
    } finally {
      this.loading = null;
    }
  }

  reloadSoon(parts: Part[] = ALL): void {
    for (const part of parts) this.dirty.add(part);
    this.reloadTimer ??= setTimeout(() => {
      this.reloadTimer = null;
      void this.reload([]);
    }, RELOAD_DELAY_MS);
  }

  /** An operation this page just started or read: shown at once, before its first event. */
  upsertOperation(op: Operation): void {
    const others = this.state.operations.filter((o) => o.id !== op.id);
    const current = this.state.operations.find((o) => o.id === op.id);
    // Events can arrive out of order with a response: never go back to an older state.
    if (current && current.updated_at > op.updated_at) return;
    this.set({ operations: [op, ...others].sort(newestFirst) });
  }

  private async load(parts: Set<Part>): Promise<void> {
    const api = this.api;
    const read = <T>(part: Part, fn: () => Promise<T>): Promise<T | undefined> => (parts.has(part) ? fn() : Promise.resolve(undefined));
    try {
      const [server, members, instances, catalog, operations] = await Promise.all([
        read("server", () => api.get<ServerInfo>("/1.0")),
        read("members", () => api.get<Member[]>("/1.0/cluster/members?recursion=1")),
        read("instances", () => api.get<Instance[]>("/1.0/instances?all-projects=true&recursion=1")),
        read("catalog", () => Promise.all([
          api.get<ClusterGroup[]>("/1.0/cluster/groups?recursion=1"),
          api.get<Project[]>("/1.0/projects?recursion=1"),
          api.get<StoragePool[]>("/1.0/storage-pools?recursion=1"),
          api.get<TokenInfo[]>("/1.0/tokens?recursion=1").catch(() => [] as TokenInfo[]),
        ])),
        // As LXD: the operations grouped by status ({running: [...], success: [...]}).
        read("operations", async () => Object.values(await api.get<Record<string, Operation[]> | Operation[]>("/1.0/operations?recursion=1")).flat()),
      ]);
      const patch: Partial<ClusterState> = { error: null };
      if (server) patch.server = server;
      if (members) patch.members = members;
      if (instances) patch.instances = instances;
      if (catalog) [patch.groups, patch.projects, patch.pools, patch.tokens] = catalog;
      if (operations) {
        // Operations seen in events meanwhile may be newer than this read.
        const byId = new Map(operations.map((o) => [o.id, o]));
        for (const known of this.state.operations) {
          const stored = byId.get(known.id);
          if (!stored || known.updated_at > stored.updated_at) byId.set(known.id, known);
        }
        patch.operations = [...byId.values()].sort(newestFirst);
      }
      // Loaded once everything has been read at least once.
      patch.loaded = this.state.loaded || parts.size === ALL.length;
      this.set(patch);
    } catch (err) {
      for (const part of parts) this.failed.add(part);
      this.set({ error: err instanceof Error ? err.message : String(err) });
    }
  }

  private onEvent(name: string, data: unknown): void {
    if (name !== "lifecycle" && name !== "operation" && name !== "logging") return;
    const event = data as BerthEvent;
    this.set({ events: [{ ...event, seq: ++this.seq }, ...this.state.events].slice(0, FEED_LIMIT) });
    if (event.type === "operation") {
      const op = event.metadata as unknown as Operation;
      this.upsertOperation(op);
      if (isFinished(op)) this.reloadSoon(["members", "instances"]);
      // An evacuation or restore changes its member's state (Evacuating, Evacuated, ...) without a lifecycle event.
      else if ((op.resources?.cluster ?? []).length > 0) this.reloadSoon(["members"]);
    }
    if (event.type === "lifecycle") this.reloadSoon(partsOf(String(event.metadata.action ?? "")));
  }

  private set(patch: Partial<ClusterState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
  }
}

const newestFirst = (a: Operation, b: Operation) => b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id);

export function isFinished(op: Operation): boolean {
  return op.status === "Success" || op.status === "Failure" || op.status === "Cancelled";
}
