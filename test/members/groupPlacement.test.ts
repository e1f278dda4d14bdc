/**
 * Issue 13, point 1: an instance placed through `?target=@group` records volatile.cluster.group,
 * and every move Berth chooses (evacuation, relocation without a target, healing, restore) keeps
 * it inside that group, as LXD does; a project restricted to groups keeps its instances inside
 * them on every move too. The members outside the group are emptier, so a move that ignored the
 * group would go there (count ranking: fewest instances first).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Instance } from "../../src/domain/types.ts";
import { makeHarness, type Harness } from "../support/harness.ts";

let h: Harness;
const WEB = ["w1", "w2", "w3"];
const OTHERS = ["o1", "o2", "o3"];
beforeEach(async () => {
  h = await makeHarness();
  for (const name of [...WEB, ...OTHERS]) await h.addMember(name);
  expect((await h.request("POST", "/1.0/cluster/groups", { name: "web", members: WEB })).status).toBe(201);
  // The group's members are busier than the others: a move that ignored the group would leave it.
  for (const m of ["w2", "w3"]) for (const n of [1, 2]) await h.createInstance({ name: `fill-${m}-${n}` }, `target=${m}`);
});
afterEach(async () => { await h.close(); });

const get = async (name: string, project = "default"): Promise<Instance> =>
  (await h.request("GET", `/1.0/instances/${name}${project === "default" ? "" : `?project=${project}`}`)).body.metadata;
const finish = async (reply: { status: number; body: { operation?: string; error: string } }) => {
  expect(reply.status, reply.body.error).toBe(202);
  return (await h.request("GET", `${reply.body.operation}/wait?timeout=30`)).body.metadata;
};
const act = (member: string, body: Record<string, unknown>) => h.request("POST", `/1.0/cluster/members/${member}/state`, body);

describe("group placement survives moves", () => {
  it("a create through @group records volatile.cluster.group; a create on a member or with no target does not", async () => {
    const grouped = await h.createInstance({ name: "g", start: true }, "target=@web");
    expect(WEB).toContain(grouped.location);
    expect(grouped.config["volatile.cluster.group"]).toBe("web");
    expect((await h.createInstance({ name: "plain" })).config["volatile.cluster.group"]).toBeUndefined();
    expect((await h.createInstance({ name: "named" }, "target=w1")).config["volatile.cluster.group"]).toBeUndefined();
    // The key stays Berth's: a user cannot change it.
    const change = await h.request("PATCH", "/1.0/instances/g", { config: { "volatile.cluster.group": "default" } });
    expect(change.status).toBe(400);
    expect(change.body.error).toContain("volatile.cluster.group");
  });

  it("evacuation keeps it in the group (even though the members outside are emptier), and restore brings it home", async () => {
    const g = await h.createInstance({ name: "g", start: true }, "target=@web");
    expect(g.location).toBe("w1"); // the emptiest member of the group
    const plan = (await act("w1", { action: "evacuate", dry_run: true })).body.metadata;
    expect(plan.instances).toEqual([expect.objectContaining({ name: "g", action: "migrate", target: expect.stringMatching(/^w[23]$/) })]);
    const op = await finish(await act("w1", { action: "evacuate" }));
    expect(op.status, op.err).toBe("Success");
    const moved = await get("g");
    expect(["w2", "w3"]).toContain(moved.location);
    expect(moved).toMatchObject({ status: "Running", config: expect.objectContaining({ "volatile.cluster.group": "web", "volatile.evacuate.origin": "w1" }) });
    const back = await finish(await act("w1", { action: "restore" }));
    expect(back.status, back.err).toBe("Success");
    expect(await get("g")).toMatchObject({ location: "w1", status: "Running", config: expect.objectContaining({ "volatile.cluster.group": "web" }) });
  });

  it("evacuation stops it in place rather than leave the group when no member of the group can take it", async () => {
    await h.createInstance({ name: "g", start: true }, "target=@web");
    for (const m of ["w2", "w3"]) expect((await act(m, { action: "evacuate" })).status).toBe(202);
    await h.berth.services.operations.settle();
    const op = await finish(await act("w1", { action: "evacuate" }));
    expect(op.status, op.err).toBe("Success");
    expect(await get("g")).toMatchObject({ location: "w1", status: "Stopped" });
    const entry = op.metadata.instances.find((i: any) => i.name === "g");
    expect(entry).toMatchObject({ action: "stop", outcome: "stopped" });
    expect(entry.why).toContain("web");
  });

  it("a move without a target stays in the group; a move to @other records the new group", async () => {
    await h.createInstance({ name: "g", start: true }, "target=@web");
    const op = await finish(await h.request("POST", "/1.0/instances/g", { migration: true }));
    expect(op.status, op.err).toBe("Success");
    const moved = await get("g");
    expect(["w2", "w3"]).toContain(moved.location);
    expect(moved.config["volatile.cluster.group"]).toBe("web");

    expect((await h.request("POST", "/1.0/cluster/groups", { name: "other", members: ["o1", "o2"] })).status).toBe(201);
    const op2 = await finish(await h.request("POST", "/1.0/instances/g?target=@other", { migration: true }));
    expect(op2.status, op2.err).toBe("Success");
    const regrouped = await get("g");
    expect(["o1", "o2"]).toContain(regrouped.location);
    expect(regrouped.config["volatile.cluster.group"]).toBe("other");
    // The next move Berth chooses keeps to the new group.
    const op3 = await finish(await h.request("POST", "/1.0/instances/g", { migration: true }));
    expect(op3.status, op3.err).toBe("Success");
    expect(["o1", "o2"]).toContain((await get("g")).location);
  });

  it("a move to a named member outside the group is the operator's choice: it goes there and the group mark is dropped", async () => {
    await h.createInstance({ name: "g", start: true }, "target=@web");
    const op = await finish(await h.request("POST", "/1.0/instances/g?target=o3", { migration: true }));
    expect(op.status, op.err).toBe("Success");
    const moved = await get("g");
    expect(moved.location).toBe("o3");
    expect(moved.config["volatile.cluster.group"]).toBeUndefined();
  });

  it("healing keeps it in the group", async () => {
    expect((await h.request("PATCH", "/1.0", { config: { "cluster.offline_threshold": 20, "cluster.healing_threshold": 30 } })).status).toBe(200);
    await h.createInstance({ name: "g", start: true }, "target=@web");
    expect((await get("g")).location).toBe("w1");
    const alive = ["w2", "w3", ...OTHERS];
    await h.clock.advance(34);
    for (const name of alive) await h.heartbeat(name);
    await h.clock.advance(1); // w1 silent 35 s > 30: healed
    await h.berth.services.operations.settle();
    const healed = await get("g");
    expect(["w2", "w3"]).toContain(healed.location);
    expect(healed).toMatchObject({ status: "Running", config: expect.objectContaining({ "volatile.cluster.group": "web", "volatile.evacuate.origin": "w1" }) });
  });

  it("restore does not bring an instance back to its origin once that member left the instance's group", async () => {
    expect((await h.request("POST", "/1.0/cluster/groups", { name: "db", members: ["w1", "o1"] })).status).toBe(201);
    await h.createInstance({ name: "g", start: true }, "target=@web");
    expect((await finish(await act("w1", { action: "evacuate" }))).status).toBe("Success");
    const away = (await get("g")).location;
    // w1 leaves the web group while evacuated (it stays in db and default).
    expect((await h.request("PUT", "/1.0/cluster/groups/web", { members: ["w2", "w3"] })).status).toBe(200);
    const op = await finish(await act("w1", { action: "restore" }));
    expect(op.status).toBe("Failure");
    expect(op.err).toContain(`group "web"`);
    expect(await get("g")).toMatchObject({ location: away, status: "Running", config: expect.objectContaining({ "volatile.evacuate.origin": "w1" }) });
  });

  it("a project restricted to groups keeps its instances inside them on every move, restore included", async () => {
    expect((await h.request("POST", "/1.0/projects", { name: "team", config: { "restricted.cluster.groups": "web" } })).status).toBe(201);
    const i = await h.createInstance({ name: "t", start: true }, "project=team");
    expect(i.location).toBe("w1");
    expect((await finish(await act("w1", { action: "evacuate" }))).status).toBe("Success");
    expect(["w2", "w3"]).toContain((await get("t", "team")).location);
    const moved = await finish(await h.request("POST", "/1.0/instances/t?project=team", { migration: true }));
    expect(moved.status, moved.err).toBe("Success");
    expect(["w2", "w3"]).toContain((await get("t", "team")).location);
    // Its origin leaves the project's groups: restore leaves it where it is, and says why.
    expect((await h.request("PUT", "/1.0/cluster/groups/web", { members: ["w2", "w3"] })).status).toBe(200);
    const op = await finish(await act("w1", { action: "restore" }));
    expect(op.status).toBe("Failure");
    expect(op.err).toContain("restricted.cluster.groups");
    expect(["w2", "w3"]).toContain((await get("t", "team")).location);
  });
});
