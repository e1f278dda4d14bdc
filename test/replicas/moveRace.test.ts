/**
 * A move decided on one replica races creates on another onto the same member (two replicas in
 * this process on one PostgreSQL). Replica A decides and reserves a relocation onto n2 in its
 * view, and its move is held just before the write that puts the instance there; meanwhile
 * replica B creates instances that fill n2 (B's create is checked against what is stored, where
 * the moving instance is not yet). When A's move goes on, its write is checked against what is
 * stored too, and refused: n2 is never over-committed, the instance is back where it was.
 */
import { expect, it } from "vitest";
import { describeWithPostgres } from "../support/postgres.ts";
import { TestExecutor } from "../support/testExecutor.ts";
import { addMember, postgresForFile, startReplica } from "./inProcess.ts";

describeWithPostgres("a move and creates on two replicas race onto one member", () => {
  const pg = postgresForFile();

  it("the move's write is checked against what is stored: refused, the instance back where it was, the member not over-committed", async () => {
    const store = await pg.database();
    const executorA = new TestExecutor();
    const a = pg.closeAfter(await startReplica(store, "a", { executor: executorA.install }));
    const b = pg.closeAfter(await startReplica(store, "b"));
    expect((await a.call("PATCH", "/1.0", { config: { "scheduler.cpu_allocation_ratio": 1 } })).status).toBe(200);
    await addMember(a, "n1", 16);
    await addMember(a, "n2", 4);
    // B follows the feed: it knows both members and the ratio before it places anything.
    await expect.poll(async () => (await b.call("GET", "/1.0/cluster/members?recursion=1")).body.metadata.filter((m: any) => m.status === "Online").length, { timeout: 30_000 }).toBe(2);
    await expect.poll(async () => (await b.call("GET", "/1.0")).body.metadata.config["scheduler.cpu_allocation_ratio"], { timeout: 30_000 }).toBe("1");
    const created = await a.settle(await a.call("POST", "/1.0/instances?target=n1", { name: "x", start: true, config: { "limits.cpu": "2" } }));
    expect(created.status, created.err).toBe("Success");

    executorA.hold((action) => action.kind === "move");
    const moving = await a.call("POST", "/1.0/instances/x?target=n2", { migration: true });
    expect(moving.status, JSON.stringify(moving.body)).toBe(202); // A's view had room on n2
    const held = await executorA.next((action) => action.name === "x");
    for (const name of ["f1", "f2"]) {
      const filled = await b.settle(await b.call("POST", "/1.0/instances?target=n2", { name, config: { "limits.cpu": "2" } }));
      expect(filled.status, filled.err).toBe("Success");
    }
    held.release();

    const moved = await a.settle(moving);
    expect(moved.status).toBe("Failure");
    expect(moved.err).toMatch(/"x".*no longer fits on cluster member "n2".*needs 2 more cpu, 0 of 4 free/);
    const x = (await b.call("GET", "/1.0/instances/x")).body.metadata;
    expect(x).toMatchObject({ location: "n1", status: "Running" });
    expect(x.config["volatile.last_state.power"]).toBeUndefined();
    const onN2 = (await a.berth.services.store.listInstances({ location: "n2" })).map((i) => i.name).sort();
    expect(onN2).toEqual(["f1", "f2"]);
  }, 120_000);
});
