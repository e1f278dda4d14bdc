/**
 * The defects a load run found under concurrent operations (issue 9), each reproduced through the
 * API with the executor held at a chosen step, so the race happens the same way on every run.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Instance } from "../../src/domain/types.ts";
import { makeHarness, type Harness } from "../support/harness.ts";

let h: Harness;
beforeEach(async () => { h = await makeHarness(); });
afterEach(async () => { await h.close(); });

const GiB = 1024 ** 3;
const member = (name: string, cpu = 16, memory = 64) => h.addMember(name, { resources: { cpu: { total: cpu }, memory: { total: memory * GiB } } });
const create = (name: string, target: string, body: Record<string, unknown> = {}) => h.createInstance({ name, start: true, ...body }, `target=${target}`);
const get = async (name: string): Promise<Instance> => (await h.request("GET", `/1.0/instances/${name}`)).body.metadata;
const list = async (): Promise<Instance[]> => (await h.request("GET", "/1.0/instances?recursion=1")).body.metadata;
const statusOf = async (name: string) => (await h.request("GET", `/1.0/cluster/members/${name}`)).body.metadata.status;
const act = (name: string, body: Record<string, unknown>) => h.request("POST", `/1.0/cluster/members/${name}/state`, body);
const finish = async (reply: { status: number; body: { operation?: string; error: string } }) => {
  if (reply.status !== 202) throw new Error(`expected an operation, got ${reply.status} ${reply.body.error}`);
  return (await h.request("GET", `${reply.body.operation}/wait?timeout=30`)).body.metadata;
};
/** Placements and moves in flight on every member, as the placement query shows them. */
const pending = async () => {
  const r = await h.request("POST", "/1.0/scheduler/placement", { name: "probe" });
  return Object.fromEntries(r.body.metadata.candidates.map((c: any) => [c.server_name, c.pending]));
};

describe("an instance deleted during an evacuation", () => {
  it("is simply done: the operation succeeds, the member ends Evacuated, no reservation is left, nothing moves afterwards", async () => {
    for (const name of ["n1", "n2", "n3"]) await member(name);
    for (let i = 1; i <= 8; i++) await create(`w${i}`, "n1");
    h.executor.hold();
    const reply = await act("n1", { action: "evacuate" });
    expect(reply.status).toBe(202);
    await h.executor.next(); // the evacuation is under way: its first steps are held
    const deleting = h.run("DELETE", "/1.0/instances/w8?force=true");
    (await h.executor.next((a) => a.name === "w8")).release(); // the delete's own stop
    const deleted = await deleting;
    expect(deleted.status).toBe(202);
    expect(deleted.op?.status).toBe("Success");
    h.executor.releaseAll();
    const op = await finish(reply);
    expect(op.status, op.err).toBe("Success");
    expect(op.metadata.instances.find((i: any) => i.name === "w8")).toMatchObject({ outcome: "gone" });
    expect(op.metadata.instances.filter((i: any) => i.outcome === "moved")).toHaveLength(7);
    expect(await statusOf("n1")).toBe("Evacuated");
    expect(await pending()).toEqual({ n2: 0, n3: 0 });
    const actionsAtEnd = h.executor.log.length;
    await new Promise((r) => setTimeout(r, 50));
    expect(h.executor.log.length).toBe(actionsAtEnd); // the operation's end was the end of its work
    expect((await finish(await act("n1", { action: "restore" }))).status).toBe("Success");
  });

  it("an instance deleted while its own step is in flight waits for the step, then is deleted where it landed", async () => {
    for (const name of ["n1", "n2"]) await member(name);
    await create("w1", "n1");
    h.executor.hold();
    const reply = await act("n1", { action: "evacuate" });
    const stop = await h.executor.next((a) => a.kind === "stop" && a.name === "w1");
    const deleting = h.run("DELETE", "/1.0/instances/w1?force=true");
    stop.release();
    h.executor.releaseAll();
    const deleted = await deleting;
    expect(deleted.status).toBe(202);
    expect(deleted.op?.status).toBe("Success");
    const op = await finish(reply);
    expect(op.status).toBe("Success");
    expect(await list()).toEqual([]);
    expect(await statusOf("n1")).toBe("Evacuated");
  });
});

describe("limits are bounded and a change of limits must fit", () => {
  beforeEach(async () => {
    await member("small", 1, 4); // offers 4 cores (ratio 4) and 4GiB
    for (let i = 0; i < 4; i++) await create(`c${i}`, "small", { config: { "limits.cpu": "1" } });
  });

  it("refuses a limit too large to be a number with 400, and nothing changes", async () => {
    const huge = `1${"0".repeat(400)}`;
    const cpu = await h.request("PATCH", "/1.0/instances/c0", { config: { "limits.cpu": huge } });
    expect(cpu.status).toBe(400);
    expect(cpu.body.error).toContain(`config["limits.cpu"]`);
    const memory = await h.request("PATCH", "/1.0/instances/c0", { config: { "limits.memory": `1${"0".repeat(30)}` } });
    expect(memory.status).toBe(400);
    expect(memory.body.error).toContain(`config["limits.memory"]`);
    expect((await h.request("POST", "/1.0/instances", { name: "x", config: { "limits.cpu": "1e3" } })).status).toBe(400);
    expect((await h.request("POST", "/1.0/instances", { name: "x", config: { "limits.gpu": "99999999999999999999" } })).status).toBe(400);
    expect((await get("c0")).config["limits.cpu"]).toBe("1");
    // The scheduler's accounting stays finite: the member is full, and says so in numbers.
    const query = await h.request("POST", "/1.0/scheduler/placement", { name: "q", config: { "limits.cpu": "1" } });
    expect(query.body.metadata.target).toBeNull();
    expect(query.body.metadata.rejected.small).toMatch(/needs 1 cpu, 0 of 4 .* free/);
  });

  it("refuses with 409 and the reason a raise that does not fit, before anything is written", async () => {
    const raise = await h.request("PATCH", "/1.0/instances/c0", { config: { "limits.cpu": "1000" } });
    expect(raise.status).toBe(409);
    expect(raise.body.error).toMatch(/cannot grow on cluster member "small": needs 999 more cpu, 0 of 4 free/);
    expect((await get("c0")).config["limits.cpu"]).toBe("1");
    const put = await h.request("PUT", "/1.0/instances/c1", { config: { "limits.cpu": "2" } });
    expect(put.status).toBe(409);
    expect((await get("c1")).config["limits.cpu"]).toBe("1");
    // Lowering always fits, and frees what it gave back for the next create.
    expect((await h.request("PATCH", "/1.0/instances/c0", { config: { "limits.cpu": "0.5" } })).status).toBe(200);
    expect((await h.run("POST", "/1.0/instances", { name: "half", config: { "limits.cpu": "0.5" } })).op?.status).toBe("Success");
    expect((await h.request("POST", "/1.0/instances", { name: "more", config: { "limits.cpu": "0.5" } })).status).toBe(409);
    // A raise back within what is free is fine; memory is checked too.
    expect((await h.request("PATCH", "/1.0/instances/c1", { config: { "limits.memory": "5GiB" } })).status).toBe(409);
    expect((await h.request("PATCH", "/1.0/instances/c1", { config: { "limits.memory": "3GiB" } })).status).toBe(200);
  });

  it("two raises at once never both take the last free core", async () => {
    await member("big", 1, 4);
    await create("d0", "big", { config: { "limits.cpu": "1" } });
    const answers = await Promise.all([
      h.request("POST", "/1.0/instances?target=big", { name: "d1", config: { "limits.cpu": "3" } }),
      h.request("PATCH", "/1.0/instances/d0", { config: { "limits.cpu": "4" } }),
    ]);
    // Exactly one of them fits: the other is refused with 409.
    expect(answers.map((a) => a.status).filter((s) => s >= 400)).toEqual([409]);
    const onBig = (await list()).filter((i) => i.location === "big");
    const cores = onBig.reduce((sum, i) => sum + Number(i.config["limits.cpu"] ?? 0), 0);
    expect(cores).toBeLessThanOrEqual(4);
  });
});

describe("a change of limits while the instance is being moved", () => {
  const coresOn = async (name: string) => (await list()).filter((i) => i.location === name)
    .reduce((sum, i) => sum + Number(i.config["limits.cpu"] ?? 0), 0);

  it("an evacuation re-checks the target with the limits the instance has when it moves, and goes elsewhere", async () => {
    await member("n1");
    await member("n2", 1, 64); // offers 4 cores
    await create("w1", "n1", { config: { "limits.cpu": "1" } });
    await create("w2", "n1", { config: { "limits.cpu": "1" } });
    expect((await h.request("PATCH", "/1.0", { config: { "cluster.evacuate.max_parallel": "1" } })).status).toBe(200);
    h.executor.hold();
    const reply = await act("n1", { action: "evacuate" });
    const first = await h.executor.next(); // both are planned onto n2 (2 of its 4 cores)
    const second = first.name === "w1" ? "w2" : "w1";
    // While the first is on its way, the second grows to 4 cores: it still fits n1, not n2.
    expect((await h.request("PATCH", `/1.0/instances/${second}`, { config: { "limits.cpu": "4" } })).status).toBe(200);
    await member("n3"); // where the evacuation can take it instead
    first.release();
    h.executor.releaseAll();
    const op = await finish(reply);
    expect(op.status, op.err).toBe("Success");
    expect(await coresOn("n2")).toBeLessThanOrEqual(4);
    expect((await get(second)).location).toBe("n3");
    expect(await pending()).toMatchObject({ n2: 0, n3: 0 });
  });

  it("a restore brings home only what fits there, says which instance did not, and a second restore brings it home later", async () => {
    await member("home", 1, 64); // offers 4 cores
    await member("away");
    await create("w1", "home", { config: { "limits.cpu": "1" } });
    await create("w2", "home", { config: { "limits.cpu": "1" } });
    expect((await finish(await act("home", { action: "evacuate" }))).status).toBe("Success");
    // Away from home, w1 grows: home cannot take both back (5 of its 4 cores).
    expect((await h.request("PATCH", "/1.0/instances/w1", { config: { "limits.cpu": "4" } })).status).toBe(200);
    const op = await finish(await act("home", { action: "restore" }));
    expect(op.status).toBe("Failure");
    const failed = op.metadata.instances.filter((i: any) => i.outcome === "failed");
    expect(failed).toHaveLength(1); // whichever came second
    expect(failed[0].error).toMatch(/does not fit on cluster member "home": needs \d more cpu, 0 of 4 free/);
    expect(await coresOn("home")).toBeLessThanOrEqual(4);
    expect((await get(failed[0].name)).location).toBe("away");
    // What came back runs at home: the member is in service again, and nothing runs on an evacuated member.
    expect(await statusOf("home")).toBe("Online");
    // Restore again once it fits: it moves back what is still away, and only that.
    const home = (await list()).filter((i) => i.location === "home").map((i) => i.name);
    for (const name of home) expect((await h.request("PATCH", `/1.0/instances/${name}`, { config: { "limits.cpu": "1" } })).status).toBe(200);
    expect((await h.request("PATCH", `/1.0/instances/${failed[0].name}`, { config: { "limits.cpu": "1" } })).status).toBe(200);
    const again = await finish(await act("home", { action: "restore" }));
    expect(again.status, again.err).toBe("Success");
    expect(again.metadata.instances).toEqual([expect.objectContaining({ name: failed[0].name, action: "move-back", outcome: "moved" })]);
    expect((await list()).map((i) => i.location)).toEqual(["home", "home"]);
    expect(await statusOf("home")).toBe("Online");
    expect((await act("home", { action: "restore" })).status).toBe(409); // nothing left to restore
    expect(await pending()).toMatchObject({ home: 0, away: 0 });
  });
});

describe("an evacuated member runs nothing", () => {
  it("a second evacuation of a member the first one is moving instances to ends with nothing running on it", async () => {
    for (const name of ["t0", "t1", "t2"]) await member(name, 64, 256);
    for (let i = 0; i < 12; i++) await create(`v${String(i).padStart(2, "0")}`, "t0");
    h.executor.hold();
    const first = await act("t0", { action: "evacuate" });
    await h.executor.next(); // t0's plan is made: about half of it reserved on t1
    const second = await act("t1", { action: "evacuate" });
    expect(second.status).toBe(202);
    h.executor.releaseAll();
    const [a, b] = [await finish(first), await finish(second)];
    expect(a.status, a.err).toBe("Success");
    expect(b.status, b.err).toBe("Success");
    expect(await statusOf("t1")).toBe("Evacuated");
    const all = await list();
    expect(all.filter((i) => i.location === "t1" || i.location === "t0")).toEqual([]);
    expect(all.every((i) => i.location === "t2" && i.status === "Running")).toBe(true);
    expect(await pending()).toEqual({ t2: 0 });
  });

  it("a move to a member that is evacuated before the move starts goes elsewhere", async () => {
    for (const name of ["s", "t3", "t4"]) await member(name);
    await create("x", "s");
    h.executor.hold();
    const move = await h.request("POST", "/1.0/instances/x", { migration: true });
    expect(move.status).toBe(202);
    const target = move.body.metadata.description.match(/to "(.+)"/)[1];
    const evac = await act(target, { action: "evacuate" });
    h.executor.releaseAll();
    const [m, e] = [await finish(move), await finish(evac)];
    expect(m.status, m.err).toBe("Success");
    expect(e.status, e.err).toBe("Success");
    const x = await get("x");
    expect(x.location).not.toBe(target);
    expect(x.status).toBe("Running");
    expect(await statusOf(target)).toBe("Evacuated");
  });

  it("refuses to start an instance on a member being evacuated or evacuated (409 naming the state)", async () => {
    for (const name of ["p", "q"]) await member(name);
    await create("pinned", "p", { devices: { u: { type: "usb" } } });
    await finish(await act("p", { action: "evacuate" }));
    expect((await get("pinned")).status).toBe("Stopped");
    // Issue 13, point 6: refused at once (409), before any operation, as Nova's maintenance mode.
    for (const action of ["start", "restart"]) {
      const start = await h.request("PUT", "/1.0/instances/pinned/state", { action });
      expect(start.status).toBe(409);
      expect(start.body.error).toContain(`cluster member "p" is evacuated (EVACUATED)`);
      expect(start.body.operation ?? "").toBe("");
    }
    expect((await get("pinned")).status).toBe("Stopped");
    expect((await h.request("PUT", "/1.0/instances/pinned/state", { action: "stop" })).status).toBe(202);
    // Nor is anything created there, even when named.
    const late = await h.request("POST", "/1.0/instances?target=p", { name: "late" });
    expect(late.status).toBe(409);
    expect(late.body.error).toContain("p: status: member is Evacuated");
  });
});

describe("members", () => {
  it("a member with placements or moves in flight towards it cannot be deleted (409), and the evacuation then completes", async () => {
    for (const name of ["t0", "t2"]) await member(name);
    await create("a", "t0");
    h.executor.hold();
    const evac = await act("t0", { action: "evacuate" });
    await h.executor.next();
    const del = await h.request("DELETE", "/1.0/cluster/members/t2");
    expect(del.status).toBe(409);
    expect(del.body.error).toContain("in flight");
    h.executor.releaseAll();
    const op = await finish(evac);
    expect(op.status, op.err).toBe("Success");
    expect((await get("a")).location).toBe("t2");
  });

  it("deleting a member revokes its agent tokens: a new member of the same name does not accept the old token", async () => {
    await member("a1");
    const token = (await h.request("POST", "/1.0/tokens", { role: "agent", member: "a1" })).body.metadata.token;
    expect((await h.request("POST", "/1.0/cluster/members/a1/heartbeat", {}, token)).status).toBe(200);
    expect((await h.request("DELETE", "/1.0/cluster/members/a1")).status).toBe(200);
    await member("a1");
    expect((await h.request("POST", "/1.0/cluster/members/a1/heartbeat", {}, token)).status).toBe(401);
    const tokens = (await h.request("GET", "/1.0/tokens?recursion=1")).body.metadata;
    expect(JSON.stringify(tokens)).not.toContain(`"a1"`);
  });

  it("a malformed percent-encoded path with an agent token is a 400, not a 500", async () => {
    await member("a1");
    const token = (await h.request("POST", "/1.0/tokens", { role: "agent", member: "a1" })).body.metadata.token;
    const r = await h.request("POST", "/1.0/cluster/members/%zz/heartbeat", {}, token);
    expect(r.status).toBe(400);
    expect(r.body.error).toContain("percent-encoding");
  });
});

describe("scriptlet sandbox during member churn", () => {
  it("a member deleted and added again under the same name is a candidate the scriptlet knows", async () => {
    for (const name of ["e0", "e1"]) await member(name);
    const source = "function instance_placement(request, candidates) { set_target(candidates[candidates.length - 1].server_name); }";
    // A generous limit: the 200 ms default is wall-clock time, which a loaded machine can spend on this.
    expect((await h.request("PATCH", "/1.0", { config: { "instances.placement.scriptlet": source, "scriptlet.timeout_ms": 5000 } })).status).toBe(200);
    await h.createInstance({ name: "first" });
    expect((await h.run("DELETE", "/1.0/instances/first")).op?.status).toBe("Success");
    for (let round = 0; round < 3; round++) {
      expect((await h.request("DELETE", "/1.0/cluster/members/e0")).status).toBe(200);
      await member("e0");
      const r = await h.run("POST", "/1.0/instances", { name: `i${round}` });
      expect(r.status, r.body.error).toBe(202);
      expect(r.op?.status).toBe("Success");
      expect((await h.run("DELETE", `/1.0/instances/i${round}`)).op?.status).toBe("Success");
    }
  });
});
