/**
 * What a replica re-reads when another replica's event arrives through the feed (an in-memory
 * ReplicaChannel here: the PostgreSQL one is exercised by replicas.e2e.test.ts).
 */
import { afterEach, describe, expect, it } from "vitest";
import { ClusterChanges } from "../../src/cluster/changes.ts";
import { Replicas } from "../../src/cluster/replicas.ts";
import { EventBus } from "../../src/events/bus.ts";
import { MemoryDatabase } from "./memoryChannel.ts";

describe("replicas: reloads by the feed's events", () => {
  const started: Replicas[] = [];
  afterEach(async () => {
    for (const r of started.splice(0)) await r.stop();
  });

  it("a certificate added or removed on one replica makes the others drop their cached trust store", async () => {
    const db = new MemoryDatabase();
    const reloaded: string[] = [];
    const make = (self: string, bus: EventBus) => new Replicas({
      self, channel: db.channel(), changes: new ClusterChanges(), bus, urls: () => [],
      reload: async (what) => void (self === "r2" && reloaded.push(what)), resync: async () => [], onResync: () => {},
      operationEnded: () => {}, onLead: async () => {}, whileLeading: async () => {}, onFollow: () => {},
      onError: (err) => { throw err; }, tickMs: 60_000, groupsOf: () => ["default"],
    });
    const bus1 = new EventBus();
    const r1 = make("r1", bus1);
    const r2 = make("r2", new EventBus());
    started.push(r1, r2);
    await r1.start();
    await r2.start();

    bus1.lifecycle("certificate-created", "/1.0/certificates/ab", { name: "laptop" });
    bus1.lifecycle("certificate-deleted", "/1.0/certificates/ab", { name: "laptop" });
    bus1.lifecycle("certificate-token-created", "/1.0/trust-tokens/t1", { name: "laptop" });
    bus1.lifecycle("token-created", "/1.0/tokens/x");
    await expect.poll(() => reloaded, { timeout: 5_000 }).toEqual(["certificates", "certificates", "tokens"]);
  });

  it("a member's change re-reads the groups only when it moved the member between groups (a heartbeat does not)", async () => {
    const db = new MemoryDatabase();
    const reloaded: string[] = [];
    const published: string[] = [];
    const make = (self: string, changes: ClusterChanges) => new Replicas({
      self, channel: db.channel(), changes, bus: new EventBus(), urls: () => [],
      reload: async (what) => void (self === "r2" && reloaded.push(what)), resync: async () => [], onResync: () => {},
      operationEnded: () => {}, onLead: async () => {}, whileLeading: async () => {}, onFollow: () => {},
      onError: (err) => { throw err; }, tickMs: 60_000, groupsOf: (m) => (m === "n1" ? ["default", "fast"] : ["default"]),
    });
    const changes1 = new ClusterChanges();
    const changes2 = new ClusterChanges();
    changes2.subscribe((c) => void (c.kind === "member" && published.push(`${c.member.server_name} ${c.member.groups.join(",")}`)));
    const r1 = make("r1", changes1);
    const r2 = make("r2", changes2);
    started.push(r1, r2);
    await r1.start();
    await r2.start();
    const member = (name: string, groups: string[]) => ({ kind: "member", member: { server_name: name, groups } }) as never;
    changes1.publish(member("n1", ["default", "fast"])); // as r2 knows it: a heartbeat
    changes1.publish(member("n2", ["default"]));
    changes1.publish(member("n2", ["default", "fast"])); // moved into "fast"
    await expect.poll(() => published.length, { timeout: 5_000 }).toBe(3);
    expect(reloaded).toEqual(["groups"]);
  });
});
