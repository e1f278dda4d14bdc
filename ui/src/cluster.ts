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
const RELOAD_DELAY_MS = 150;

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
  private reloadAgain = false;
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
        this.set({ stream });
        // Whatever happened while the stream was down is read again.
        if (stream === "live") this.reloadSoon();
      },
      onMessage: (name, data) => this.onEvent(name, data),
    });
    this.poll = setInterval(() => this.reloadSoon(), POLL_MS);
    void this.reload();
  }

  stop(): void {
    this.closeStream?.();
    if (this.poll) clearInterval(this.poll);
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.listeners.clear();
  }

  /** Reloads everything; concurrent calls share one load, and a call during a load loads once more after it. */
  reload(): Promise<void> {
    if (this.loading) {
      this.reloadAgain = true;
      return this.loading;
    }
    this.loading = (async () => {
      try {
        do {
          this.reloadAgain = false;
          await this.loadAll();
        } while (this.reloadAgain);
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }

  reloadSoon(): void {
    this.reloadTimer ??= setTimeout(() => {
      this.reloadTimer = null;
      void this.reload();
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

  private async loadAll(): Promise<void> {
    const api = this.api;
    try {
      const [server, members, instances, groups, projects, pools, tokens, operations] = await Promise.all([
        api.get<ServerInfo>("/1.0"),
        api.get<Member[]>("/1.0/cluster/members?recursion=1"),
        api.get<Instance[]>("/1.0/instances?all-projects=true&recursion=1"),
        api.get<ClusterGroup[]>("/1.0/cluster/groups?recursion=1"),
        api.get<Project[]>("/1.0/projects?recursion=1"),
        api.get<StoragePool[]>("/1.0/storage-pools?recursion=1"),
        api.get<TokenInfo[]>("/1.0/tokens").catch(() => [] as TokenInfo[]),
        api.get<Operation[]>("/1.0/operations?recursion=1"),
      ]);
      // Operations seen in events meanwhile may be newer than this read.
      const byId = new Map(operations.map((o) => [o.id, o]));
      for (const known of this.state.operations) {
        const read = byId.get(known.id);
        if (!read || known.updated_at > read.updated_at) byId.set(known.id, known);
      }
      this.set({
        server, members, instances, groups, projects, pools, tokens,
        operations: [...byId.values()].sort(newestFirst), loaded: true, error: null,
      });
    } catch (err) {
      this.set({ error: err instanceof Error ? err.message : String(err) });
    }
  }

  private onEvent(name: string, data: unknown): void {
    if (name !== "lifecycle" && name !== "operation" && name !== "logging") return;
    const event = data as BerthEvent;
    this.set({ events: [{ ...event, seq: ++this.seq }, ...this.state.events].slice(0, FEED_LIMIT) });
    if (event.type === "operation") this.upsertOperation(event.metadata as unknown as Operation);
    if (event.type === "lifecycle" || (event.type === "operation" && isFinished(event.metadata as unknown as Operation))) this.reloadSoon();
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
