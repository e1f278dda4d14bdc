/**
 * Moves and resizes are confirmed against what is stored on the member, in the transaction of the
 * write that puts the instance there (or grows it), not only against this process's view. Here
 * the store is written directly, behind the view's back — what another replica's commit looks
 * like before its feed entry arrives — so the view says "fits" and only the stored check can
 * refuse. (test/replicas/moveRace.test.ts races two real replicas on PostgreSQL.)
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Instance } from "../../src/domain/types.ts";
import { makeHarness, type Harness } from "../support/harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await makeHarness({ confirmStored: true }); // as on a shared database
  expect((await h.request("PATCH", "/1.0", { config: { "scheduler.cpu_allocation_ratio": 1 } })).status).toBe(200);
});
afterEach(async () => { await h.close(); });

const member = (name: string, cpu: number) => h.addMember(name, { resources: { cpu: { total: cpu }, memory: { total: 64 * 1024 ** 3 } } });
const get = async (name: string): Promise<Instance> => (await h.request("GET", `/1.0/instances/${name}`)).body.metadata;

/** An instance stored where this Berth's view never hears of it (another replica's commit, its feed entry not yet applied). */
async function storedBehindTheView(name: string, location: string, cpus: number): Promise<void> {
  await h.berth.services.store.insertInstance({
    name, project: "default", type: "container", architecture: "x86_64", location, status: "Running", description: "",
    config: { "limits.cpu": String(cpus) }, devices: {}, profiles: ["default"], created_at: new Date(0).toISOString(),
  });
}

/** cpus stored on each member, from the store. */
async function cpusStored(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const i of await h.berth.services.store.listInstances()) out[i.location] = (out[i.location] ?? 0) + Number(i.config["limits.cpu"] ?? 0);
  return out;
}

describe("a move onto a member that what is stored shows full", () => {
  it("to a named member: the operation fails with the reason; the instance is back where it was, running, unmarked; nothing over-committed", async () => {
    await member("n1", 16);
    await member("n2", 4);
    await h.createInstance({ name: "x", start: true, config: { "limits.cpu": "2" } }, "target=n1");
    await storedBehindTheView("ghost", "n2", 4);

    const moved = await h.run("POST", "/1.0/instances/x?target=n2", { migration: true });
    expect(moved.status, moved.body.error).toBe(202); // the view had room: the move was accepted
    expect(moved.op?.status).toBe("Failure");
    expect(moved.op?.err).toMatch(/no longer fits on cluster member "n2".*needs 2 more cpu, 0 of 4 free/);
    const x = await get("x");
    expect(x).toMatchObject({ location: "n1", status: "Running" });
    expect(x.config["volatile.last_state.power"]).toBeUndefined();
    expect(await cpusStored()).toEqual({ n1: 2, n2: 4 });
    // Nothing is left reserved: a move to a member with room still goes.
    await member("n3", 4);
    const again = await h.run("POST", "/1.0/instances/x?target=n3", { migration: true });
    expect(again.op?.status, again.op?.err).toBe("Success");
    expect(await get("x")).toMatchObject({ location: "n3", status: "Running" });
  });

  it("in an evacuation: the step chooses another member and the instance runs there", async () => {
    await member("n1", 16);
    await member("n2", 4);
    await member("n3", 4);
    await h.createInstance({ name: "x", start: true, config: { "limits.cpu": "2" } }, "target=n1");
    // n3 holds an instance the view knows of, n2 none it knows of: the plan ranks n2 first.
    await h.createInstance({ name: "busy", config: { "limits.cpu": "1" } }, "target=n3");
    await storedBehindTheView("ghost", "n2", 4);
    const planned = await h.request("POST", "/1.0/cluster/members/n1/state", { action: "evacuate", dry_run: true });
    expect(planned.body.metadata.instances).toMatchObject([{ name: "x", target: "n2" }]);

    const evacuated = await h.run("POST", "/1.0/cluster/members/n1/state", { action: "evacuate" });
    expect(evacuated.op?.status, evacuated.op?.err).toBe("Success");
    expect(evacuated.op?.metadata.instances).toMatchObject([{ name: "x", outcome: "moved", target: "n3" }]);
    expect(await get("x")).toMatchObject({ location: "n3", status: "Running" });
    expect(await cpusStored()).toEqual({ n2: 4, n3: 3 });
  });

  it("in an evacuation with no other member: the instance is stopped in place, as when nothing fits", async () => {
    await member("n1", 16);
    await member("n2", 4);
    await h.createInstance({ name: "x", start: true, config: { "limits.cpu": "2" } }, "target=n1");
    await storedBehindTheView("ghost", "n2", 4);
    const evacuated = await h.run("POST", "/1.0/cluster/members/n1/state", { action: "evacuate" });
    expect(evacuated.op?.status, evacuated.op?.err).toBe("Success");
    const [outcome] = evacuated.op?.metadata.instances as { outcome: string; why: string }[];
    expect(outcome).toMatchObject({ name: "x", outcome: "stopped", no_target: true });
    expect(outcome.why).toMatch(/no longer fits on cluster member "n2"/);
    expect(await get("x")).toMatchObject({ location: "n1", status: "Stopped" });
    expect((await get("x")).config["volatile.last_state.power"]).toBe("RUNNING"); // a restore starts it again
    expect(await cpusStored()).toEqual({ n1: 2, n2: 4 });
  });
});

describe("a resize on a member that what is stored shows full", () => {
  it("is refused with 409 and the reason, and the limits stay as they were; a change that fits still goes", async () => {
    await member("n1", 4);
    await h.createInstance({ name: "x", config: { "limits.cpu": "1" } }, "target=n1");
    await storedBehindTheView("ghost", "n1", 3);

    const grown = await h.request("PATCH", "/1.0/instances/x", { config: { "limits.cpu": "2" } });
    expect(grown.status).toBe(409);
    expect(grown.body.error).toMatch(/no longer fits on cluster member "n1".*needs 1 more cpu, 0 of 4 free/);
    expect((await get("x")).config["limits.cpu"]).toBe("1");
    expect(await cpusStored()).toEqual({ n1: 4 });

    const other = await h.request("PATCH", "/1.0/instances/x", { description: "smaller is fine", config: { "limits.memory": "1GiB" } });
    expect(other.status, other.body.error).toBe(200);
    expect((await get("x")).description).toBe("smaller is fine");
  });
});
