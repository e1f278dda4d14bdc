/**
 * When a replica disappears, or the leadership changes hands, every survivor re-reads what it keeps
 * in memory and replays what the store holds to its own views (a change committed by a replica
 * killed before its feed entry was appended reaches them that way). Replicas on an in-memory
 * channel here, with a resync that stands for the store; resyncStore.test.ts does it on PostgreSQL.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ClusterChanges, type ClusterChange } from "../../src/cluster/changes.ts";
import { Replicas, type ReplicaDeps } from "../../src/cluster/replicas.ts";
import type { Instance, Member } from "../../src/domain/types.ts";
import { EventBus } from "../../src/events/bus.ts";
import { MemoryDatabase } from "./memoryChannel.ts";

const instance = (name: string, location: string): Instance => ({
  name, project: "default", type: "container", architecture: "x86_64", location, status: "Stopped", description: "",
  config: {}, devices: {}, profiles: ["default"], created_at: new Date(0).toISOString(),
});

/** Where each instance is, as this replica's views heard it (the last change about it wins). */
const locations = (heard: ClusterChange[]) => {
  const out: Record<string, string | null> = {};
  for (const c of heard) {
    if (c.kind === "instance") out[c.instance.name] = c.instance.location;
    if (c.kind === "instance-removed") out[c.name] = null;
  }
  return out;
};

describe("replicas: a full re-read when a replica disappears or the leadership changes hands", () => {
  const started: Replicas[] = [];
  afterEach(async () => {
    for (const r of started.splice(0)) await r.stop();
  });

  /** The survivor "r2": what its views heard, how many re-reads it made, what its bus delivered. */
  function survivor(db: MemoryDatabase, stored: () => Promise<ClusterChange[]>, extra: Partial<ReplicaDeps> = {}) {
    const changes = new ClusterChanges();
    const bus = new EventBus();
    const heard: ClusterChange[] = [];
    const events: string[] = [];
    changes.subscribe((c) => heard.push(c));
    bus.subscribe((e) => void events.push(String((e.metadata as { action?: string }).action)));
    const why: string[] = [];
    const replica = new Replicas({
      self: "r2", channel: db.channel(), changes, bus, urls: () => [],
      reload: async () => {}, resync: stored, onResync: (w) => void why.push(w),
      operationEnded: () => {}, onLead: async () => {}, whileLeading: async () => {}, onFollow: () => {},
      onError: (err) => { throw err; }, tickMs: 10, groupsOf: () => [], ...extra,
    });
    started.push(replica);
    return { replica, changes, heard, events, why };
  }

  it("a replica that disappears: the survivor replays what the store holds (a change whose feed entry never came), and does not put it on the feed again", async () => {
    const db = new MemoryDatabase();
    db.announced.set("r1", { id: "r1", urls: [], lastSeen: 0 });
    // r1 committed "lost" (on n2) and was killed before appending its feed entry.
    const r2 = survivor(db, async () => [{ kind: "instance", instance: instance("lost", "n2") }]);
    await r2.replica.start();
    await expect.poll(() => db.announced.has("r2")).toBe(true);
    expect(r2.replica.resyncs()).toBe(0); // r1 is still there: nothing to re-read
    expect(locations(r2.heard)).toEqual({});

    db.announced.delete("r1");
    await expect.poll(() => r2.replica.resyncs(), { timeout: 10_000 }).toBe(1);
    expect(locations(r2.heard)).toEqual({ lost: "n2" });
    expect(r2.why).toEqual([expect.stringMatching(/replica r1 was not seen/)]);
    expect(db.feed).toEqual([]); // replayed to its own views only
  });

  it("the leadership changing hands: every follower re-reads (not the first leader's arrival: nobody died)", async () => {
    const db = new MemoryDatabase();
    const r2 = survivor(db, async () => [{ kind: "instance", instance: instance("lost", "n2") }]);
    await r2.replica.start();
    db.takeLead("r1");
    await expect.poll(() => r2.replica.epoch(), { timeout: 10_000 }).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 50)); // a few more ticks with r1 leading
    expect(r2.replica.resyncs()).toBe(0);

    db.takeLead("r3");
    await expect.poll(() => r2.replica.resyncs(), { timeout: 10_000 }).toBe(1);
    expect(r2.why).toEqual([expect.stringMatching(/leadership changed hands \(epoch 1 → 2, now r3\)/)]);
    expect(locations(r2.heard)).toEqual({ lost: "n2" });
  });

  it("a member's heartbeat heard from the feed, not yet written when the store was read, is not undone; its stored lifecycle is taken", async () => {
    const db = new MemoryDatabase();
    db.takeLead("r1");
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    const n = (name: string, status: Member["status"], heartbeat: string | null, cpus: number): Member => ({
      server_name: name, url: "", architecture: "x86_64", failure_domain: "", description: "", roles: [], groups: ["default"], config: {},
      status, message: status, last_heartbeat: heartbeat, agent: null,
      resources: { cpu: { total: cpus } } as Member["resources"],
    });
    // As stored when the survivor reads: r1 wrote n1's lifecycle, not yet the heartbeats it published.
    const r2 = survivor(db, async () => [
      { kind: "member", member: n("n1", "Evacuating", at(1), 4) },
      { kind: "member", member: n("n2", "Pending", null, 0) },
    ]);
    await r2.replica.start();
    db.append("r1", "change", { kind: "member", member: n("n1", "Online", at(5), 8) } satisfies ClusterChange);
    db.append("r1", "change", { kind: "member", member: n("n2", "Online", at(5), 16) } satisfies ClusterChange);
    await expect.poll(() => r2.heard.length, { timeout: 10_000 }).toBe(2);

    db.takeLead("r3");
    await expect.poll(() => r2.replica.resyncs(), { timeout: 10_000 }).toBe(1);
    const last = (name: string) => (r2.heard.filter((c) => c.kind === "member" && c.member.server_name === name).at(-1) as { member: Member }).member;
    expect(last("n1")).toMatchObject({ status: "Evacuating", last_heartbeat: at(5), resources: { cpu: { total: 8 } } });
    expect(last("n2")).toMatchObject({ status: "Online", last_heartbeat: at(5), resources: { cpu: { total: 16 } } });
  });

  it("what this replica publishes while the re-read runs is newer than what the re-read found, and stays", async () => {
    const db = new MemoryDatabase();
    db.takeLead("r1");
    let r2!: ReturnType<typeof survivor>;
    r2 = survivor(db, async () => {
      // A local move lands while the store is read: the read saw the instance where it was.
      r2.changes.publish({ kind: "instance", instance: instance("x", "moved-here") });
      return [{ kind: "instance", instance: instance("x", "before") }, { kind: "instance", instance: instance("y", "n1") }];
    });
    await r2.replica.start();
    db.takeLead("r3");
    await expect.poll(() => r2.replica.resyncs(), { timeout: 10_000 }).toBe(1);
    expect(locations(r2.heard)).toEqual({ x: "moved-here", y: "n1" });
  });
});
