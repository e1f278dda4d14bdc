/** An in-memory ReplicaChannel for tests of Replicas (the PostgreSQL one is exercised by the tests on a real server). */
import type { FeedEntry, ReplicaChannel, ReplicaInfo } from "../../src/store/store.ts";

/** What every replica of one test shares: the feed, the listeners, the announced replicas and the lease. */
export class MemoryDatabase {
  readonly feed: FeedEntry[] = [];
  readonly listeners: ((id: number) => void)[] = [];
  /** The replicas announced, as listReplicas answers (a test removes one to make it disappear). */
  readonly announced = new Map<string, ReplicaInfo>();
  lease: { holder: string; epoch: number } | null = null;

  /** A change or event appended as a replica that writes behind the others' backs would (no Replicas of its own). */
  append(origin: string, kind: FeedEntry["kind"], body: unknown): number {
    const id = this.feed.length + 1;
    this.feed.push({ id, origin, kind, body });
    for (const l of this.listeners) l(id);
    return id;
  }

  /** Another replica takes the leadership (the epoch grows). */
  takeLead(holder: string): void {
    this.lease = { holder, epoch: (this.lease?.epoch ?? 0) + 1 };
  }

  channel(): ReplicaChannel {
    return {
      append: async (origin, entries) => entries.reduce((_, e) => this.append(origin, e.kind, e.body), 0),
      after: async (id, limit) => this.feed.filter((e) => e.id > id).slice(0, limit),
      lastId: async () => this.feed.length,
      pruneFeed: async () => 0,
      listen: async (onId) => void this.listeners.push(onId),
      tryLead: async () => null,
      resign: async () => {},
      lease: async () => this.lease,
      claimOperation: async () => true,
      releaseOperation: async () => {},
      announce: async (id, urls) => {
        if (!this.announced.has(id)) this.announced.set(id, { id, urls, lastSeen: 0 });
      },
      listReplicas: async () => [...this.announced.values()],
      sharedValue: async (_name, make) => make(),
      close: async () => {},
    };
  }
}
