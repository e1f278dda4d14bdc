/**
 * Epoch fencing of the leader's writes (store.ts asLeader): replica "a" takes the leadership with
 * its channel; then the lease's epoch grows as it does when replica "b" takes over (a paused "a"
 * does not notice: its lock connection was cut, its pool still works). Every write "a" makes as
 * the leader of its old epoch — a member's lifecycle, a heal's operation, a transaction, the feed
 * row of a status change the liveness sweep publishes — is refused and writes nothing; writes
 * outside the leader's work, and the new leader's, go on. On SQLite (one process) fencing is a no-op.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { ClusterChanges } from "../../src/cluster/changes.ts";
import { Replicas } from "../../src/cluster/replicas.ts";
import type { MemberResources } from "../../src/domain/types.ts";
import { EventBus } from "../../src/events/bus.ts";
import { PgStore } from "../../src/store/pg/pgStore.ts";
import { SqliteStore } from "../../src/store/sqliteStore.ts";
import { asLeader, LeaseLost, type NewMember, type ReplicaChannel, type Store } from "../../src/store/store.ts";
import { describeWithPostgres } from "../support/postgres.ts";
import { postgresForFile } from "./inProcess.ts";

const member = (name: string): NewMember => ({
  server_name: name, url: "", architecture: "x86_64", failure_domain: "", description: "", roles: [], config: {}, groups: [],
  resources: { cpu: { total: 4 }, memory: { total: 1 << 30, used: 0 }, storage: { pools: {} }, gpu: { total: 0, cards: [] }, load: { average_1m: 0, average_5m: 0, average_15m: 0, processes: 0 } } as unknown as MemberResources,
});
const operation = (id: string) => ({ id, kind: "evacuate", description: `heal ${id}`, resources: {}, metadata: {}, input: { member: "n1", mode: "heal" }, mayCancel: true });

/** What replica "b" does when it takes the leadership (pgChannel.ts tryLead): the epoch grows. */
async function takeOverAs(url: string, holder: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ epoch: string }>(
      "update leases set holder = $1, epoch = epoch + 1 where name = 'leader' returning epoch", [holder],
    );
    return Number(rows[0].epoch);
  } finally {
    await client.end();
  }
}

describeWithPostgres("fencing of the leader's writes on PostgreSQL", () => {
  const pg = postgresForFile();

  async function replicaA(): Promise<{ url: string; store: PgStore; channel: ReplicaChannel }> {
    const url = await pg.database();
    const store = pg.closeAfter(await PgStore.open({ url }));
    const channel = pg.closeAfter(await store.openChannel());
    await store.insertMember(member("n1"), 1);
    return { url, store, channel };
  }

  it("a's writes as the leader of the epoch it took are refused once the lease moved on; the rows stay as they were", async () => {
    const { url, store, channel } = await replicaA();
    const epoch = await channel.tryLead("a");
    expect(epoch).toBe(1);
    const lost: LeaseLost[] = [];
    const asA = <T>(fn: () => Promise<T>) => asLeader({ epoch: 1, lost: (err) => lost.push(err) }, fn);

    // While it leads, its writes land.
    await asA(() => store.setMemberLifecycle("n1", "EVACUATING"));
    await asA(() => channel.append("a", [{ kind: "event", body: { n: 1 } }]));
    expect((await store.getMember("n1"))?.state).toBe("EVACUATING");
    const feedWhileLeading = await channel.lastId();
    expect(feedWhileLeading).toBe(1);

    expect(await takeOverAs(url, "b")).toBe(2);

    // The liveness sweep's marking, healing's start, a transaction of an adopted operation's step, the feed row of a status change:
    await expect(asA(() => store.setMemberLifecycle("n1", "CREATED"))).rejects.toBeInstanceOf(LeaseLost);
    await expect(asA(() => store.insertOperation(operation("heal-n1"), 2))).rejects.toBeInstanceOf(LeaseLost);
    await expect(asA(() => store.transaction(async (tx) => {
      await tx.updateMember("n1", { description: "written by a stale leader" });
    }))).rejects.toThrow(/leadership \(epoch 1\) was taken over \(the lease is at epoch 2\)/);
    await expect(asA(() => channel.append("a", [{ kind: "change", body: { kind: "member", member: { server_name: "n1", status: "Offline" } } }]))).rejects.toBeInstanceOf(LeaseLost);
    await expect(asA(() => channel.pruneFeed(0))).rejects.toBeInstanceOf(LeaseLost);

    expect(await store.getMember("n1")).toMatchObject({ state: "EVACUATING", description: "" });
    expect(await store.listOperations()).toEqual([]);
    expect(await channel.lastId()).toBe(feedWhileLeading);
    expect(lost.length).toBe(5);
    expect(lost[0]).toMatchObject({ epoch: 1, found: 2 });

    // Outside the leader's work (a request any replica serves) writes go on; so do the new leader's.
    await store.updateMember("n1", { description: "a request" });
    await asLeader({ epoch: 2, lost: () => {} }, () => store.setMemberLifecycle("n1", "CREATED"));
    expect(await store.getMember("n1")).toMatchObject({ state: "CREATED", description: "a request" });
    // a's channel sees it too: it is not the leader any more.
    expect(await channel.tryLead("a")).toBeNull();
  }, 60_000);

  it("the leader's background work, once refused, steps down at once: it stops and writes nothing more", async () => {
    const { url, store, channel } = await replicaA();
    let passes = 0;
    let sweep: NodeJS.Timeout | null = null;
    const errors: string[] = [];
    let followed = 0;
    // A sweep started as the leader (as main.ts starts the liveness sweep and healing): its timer carries the epoch.
    const a = new Replicas({
      self: "a", channel, changes: new ClusterChanges(), bus: new EventBus(), urls: () => [],
      reload: async () => {}, resync: async () => [], onResync: () => {}, operationEnded: () => {}, groupsOf: () => [],
      onLead: async () => {
        sweep = setInterval(() => {
          passes++;
          store.updateMember("n1", { description: `swept by a (${passes})` }).catch(() => {});
        }, 20);
      },
      whileLeading: async () => {},
      onFollow: () => {
        followed++;
        if (sweep) clearInterval(sweep);
      },
      onError: (err, what) => void errors.push(`${what}: ${(err as Error).message}`),
      tickMs: 600_000, // no second tick: only a refused write can tell it
    });
    pg.closeAfter({ close: () => a.stop() });
    await a.start();
    expect(a.role()).toBe("leader");
    await expect.poll(async () => (await store.getMember("n1"))?.description, { timeout: 10_000 }).toMatch(/^swept by a/);

    await takeOverAs(url, "b");
    await asLeader({ epoch: 2, lost: () => {} }, () => store.updateMember("n1", { description: "b leads" }));
    await expect.poll(() => a.role(), { timeout: 10_000 }).toBe("follower");
    expect(followed).toBe(1);
    expect(errors).toEqual([expect.stringMatching(/epoch 1 was refused: another replica leads now, so this one steps down: .*taken over/)]);
    const passesAtStepDown = passes;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(passes).toBe(passesAtStepDown); // the sweep stopped
    expect((await store.getMember("n1"))?.description).toBe("b leads");
  }, 60_000);
});

describe("fencing on SQLite (one process, no lease)", () => {
  let dir = "";
  let store: Store | null = null;
  afterEach(async () => {
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("is a no-op: writes made as leader (epoch 0) land", async () => {
    dir = mkdtempSync(join(tmpdir(), "berth-fence-"));
    store = new SqliteStore(join(dir, "berth.db"));
    const s = store;
    await s.insertMember(member("n1"), 1);
    const lost: LeaseLost[] = [];
    await asLeader({ epoch: 0, lost: (err) => lost.push(err) }, async () => {
      await s.setMemberLifecycle("n1", "EVACUATING");
      await s.transaction((tx) => tx.insertOperation(operation("heal-n1"), 2));
    });
    expect((await s.getMember("n1"))?.state).toBe("EVACUATING");
    expect((await s.listOperations()).map((o) => o.id)).toEqual(["heal-n1"]);
    expect(lost).toEqual([]);
  });
});
