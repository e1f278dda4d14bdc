/**
 * The feed gap on PostgreSQL: replica "a" (a bare store and channel here, so that it can commit
 * without appending the feed entry, as a replica killed between the two does) leads, commits
 * changes the feed never carries, and dies (its session ends). Replica "b" (a whole Berth) takes
 * the leadership, re-reads everything from the store, and its views then hold a's changes.
 */
import { expect, it } from "vitest";
import type { Instance } from "../../src/domain/types.ts";
import { PgStore } from "../../src/store/pg/pgStore.ts";
import type { ReplicaChannel } from "../../src/store/store.ts";
import { describeWithPostgres } from "../support/postgres.ts";
import { addMember, postgresForFile, startReplica, type InProcessReplica } from "./inProcess.ts";

const instance = (name: string, location: string): Instance => ({
  name, project: "default", type: "container", architecture: "x86_64", location, status: "Stopped", description: "",
  config: { "limits.cpu": "1" }, devices: {}, profiles: ["default"], created_at: new Date(0).toISOString(),
});

describeWithPostgres("a replica killed between a commit and its feed entry", () => {
  const pg = postgresForFile();

  it("the survivor that takes the leadership re-reads the store: its scheduler view holds what the dead replica committed, and not what it deleted", async () => {
    const url = await pg.database();
    const storeA = pg.closeAfter(await PgStore.open({ url }));
    const channelA: ReplicaChannel = pg.closeAfter(await storeA.openChannel());
    expect(await channelA.tryLead("a")).toBe(1);
    await channelA.announce("a", []);

    const b: InProcessReplica = pg.closeAfter(await startReplica(url, "b"));
    expect(b.berth.replicas.role()).toBe("follower");
    await addMember(b, "n1", 16);
    for (const name of ["known1", "known2"]) {
      expect((await b.settle(await b.call("POST", "/1.0/instances?target=n1", { name, config: { "limits.cpu": "1" } }))).status).toBe("Success");
    }
    const countOnN1 = async () => {
      const query = await b.call("POST", "/1.0/scheduler/placement", { name: "probe" });
      return query.body.metadata.candidates.find((c: { server_name: string }) => c.server_name === "n1")?.instance_count;
    };
    expect(await countOnN1()).toBe(2);

    // a's commits, whose feed entries never come: three instances made, one deleted.
    for (const name of ["lost1", "lost2", "lost3"]) await storeA.insertInstance(instance(name, "n1"));
    await storeA.deleteInstance("default", "known2");
    expect(await countOnN1()).toBe(2); // b's view knows nothing of them
    await channelA.close(); // a dies: its session, and with it the leadership, is gone

    await expect.poll(() => b.berth.replicas.role(), { timeout: 30_000 }).toBe("leader");
    await expect.poll(() => b.berth.replicas.resyncs(), { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    await expect.poll(countOnN1, { timeout: 30_000 }).toBe(4); // known1 and a's three
    // The re-read is counted where operators look.
    const metrics = await (await b.berth.app.request("/1.0/metrics", { headers: { authorization: "Bearer in-process-admin" } })).text();
    expect(metrics).toMatch(/^berth_replica_resyncs [1-9]/m);
  }, 120_000);
});
