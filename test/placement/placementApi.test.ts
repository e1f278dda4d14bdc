import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeHarness, type Harness } from "../support/harness.ts";

let h: Harness;
beforeEach(async () => { h = await makeHarness(); });
afterEach(async () => { await h.close(); });

const GiB = 1024 ** 3;
const member = (cpu: number, memGiB: number, extra: Record<string, unknown> = {}) => ({
  resources: { cpu: { total: cpu }, memory: { total: memGiB * GiB } }, ...extra,
});
/** Where a create landed: its operation's metadata says so in the 202 answer, before it runs. */
const landed = (reply: { status: number; body: { metadata: any; error: string } }): string => {
  if (reply.status !== 202) throw new Error(`expected 202, got ${reply.status} ${reply.body.error}`);
  return reply.body.metadata.metadata.location;
};
const locations = async () => {
  const all = (await h.request("GET", "/1.0/instances?all-projects=true&recursion=1")).body.metadata as { location: string }[];
  const counts: Record<string, number> = {};
  for (const i of all) counts[i.location] = (counts[i.location] ?? 0) + 1;
  return counts;
};

describe("automatic placement over HTTP", () => {
  it("creates without a target on the member with the fewest instances", async () => {
    await h.addMember("n1", member(8, 16));
    await h.addMember("n2", member(8, 16));
    await h.request("POST", "/1.0/instances?target=n1", { name: "pinned" });
    const r = await h.run("POST", "/1.0/instances", { name: "auto" });
    expect(landed(r)).toBe("n2");
    expect(r.op).toMatchObject({ status: "Success", resources: { instances: ["/1.0/instances/auto"] }, metadata: { location: "n2" } });
  });

  // Issue 13, point 9: count ties break on what members' instances request, not on what they report free.
  it("count: between members with as many instances, the one with less requested memory wins, whatever they report free", async () => {
    await h.addMember("big", member(8, 64)); // reports 64GiB free
    await h.addMember("small", member(8, 16)); // reports 16GiB free
    await h.createInstance({ name: "heavy", config: { "limits.memory": "8GiB" } }, "target=big");
    await h.createInstance({ name: "light", config: { "limits.memory": "1GiB" } }, "target=small");
    const q = (await h.request("POST", "/1.0/scheduler/placement", { name: "next" })).body.metadata;
    expect(q.candidates.map((c: any) => c.server_name)).toEqual(["small", "big"]);
    expect(q.target).toBe("small");
    expect(landed(await h.request("POST", "/1.0/instances", { name: "next" }))).toBe("small");
  });

  it("lands 100 concurrent creates on 10 equal empty members 10 each", async () => {
    for (let i = 0; i < 10; i++) await h.addMember(`m${i}`, member(64, 256));
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) =>
      h.request("POST", "/1.0/instances", { name: `c${i}`, config: { "limits.cpu": "1", "limits.memory": "1GiB" } })));
    expect(replies.every((r) => r.status === 202)).toBe(true);
    expect(Object.values(await locations())).toEqual(Array(10).fill(10));
  });

  it("gives a member that fits one more instance to exactly one of two concurrent requests", async () => {
    await h.addMember("small", member(2, 4));
    await h.request("POST", "/1.0/instances", { name: "first", config: { "limits.memory": "3GiB" } });
    const [a, b] = await Promise.all([
      h.request("POST", "/1.0/instances", { name: "a", config: { "limits.memory": "1GiB" } }),
      h.request("POST", "/1.0/instances", { name: "b", config: { "limits.memory": "1GiB" } }),
    ]);
    expect([a.status, b.status].sort()).toEqual([202, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.body.error).toContain("small");
    expect(loser.body.error).toContain("memory");
  });

  it("honours @group and member targets, and still filters a targeted member", async () => {
    await h.addMember("n1", member(8, 16));
    await h.addMember("n2", member(8, 16));
    await h.addMember("g1", member(8, 16));
    await h.request("POST", "/1.0/cluster/groups", { name: "gpu", members: ["g1"] });
    expect(landed(await h.request("POST", "/1.0/instances?target=@gpu", { name: "a" }))).toBe("g1");
    expect((await h.request("POST", "/1.0/instances?target=@nope", { name: "b" })).status).toBe(404);
    expect((await h.request("POST", "/1.0/instances?target=ghost", { name: "b" })).status).toBe(404);
    const full = await h.request("POST", "/1.0/instances?target=n1", { name: "big", config: { "limits.memory": "64GiB" } });
    expect(full.status).toBe(409);
    expect(full.body.error).toContain("n1");
    expect(full.body.metadata.rejected.n1).toMatch(/^resources: /);
    await h.request("POST", "/1.0/cluster/members/n2/state", { action: "evacuate" });
    const evacuated = await h.request("POST", "/1.0/instances?target=n2", { name: "c" });
    expect(evacuated.status).toBe(409);
    expect(evacuated.body.metadata.rejected.n2).toContain("Evac");
  });

  it("respects scheduler.instance manual and group on members", async () => {
    await h.addMember("manual", member(8, 16, { config: { "scheduler.instance": "manual" } }));
    await h.addMember("grouped", member(8, 16, { config: { "scheduler.instance": "group" } }));
    await h.addMember("normal", member(8, 16));
    await h.request("POST", "/1.0/cluster/groups", { name: "special", members: ["grouped"] });
    for (let i = 0; i < 3; i++) expect(landed(await h.request("POST", "/1.0/instances", { name: `auto${i}` }))).toBe("normal");
    expect(landed(await h.request("POST", "/1.0/instances?target=manual", { name: "m" }))).toBe("manual");
    expect(landed(await h.request("POST", "/1.0/instances?target=@special", { name: "g" }))).toBe("grouped");
  });

  it("keeps a restricted project inside its groups: 403 for a target outside them", async () => {
    await h.addMember("n1", member(8, 16));
    await h.addMember("n2", member(8, 16));
    await h.request("POST", "/1.0/cluster/groups", { name: "team-nodes", members: ["n2"] });
    await h.request("POST", "/1.0/projects", { name: "team", config: { "restricted.cluster.groups": "team-nodes" } });
    for (let i = 0; i < 3; i++) {
      expect(landed(await h.request("POST", "/1.0/instances?project=team", { name: `t${i}` }))).toBe("n2");
    }
    const outside = await h.request("POST", "/1.0/instances?project=team&target=n1", { name: "x" });
    expect(outside.status).toBe(403);
    expect(outside.body.error).toContain("team-nodes");
    expect((await h.request("POST", "/1.0/instances?project=team&target=@default", { name: "y" })).status).toBe(403);
  });

  it("answers 409 with every member's reason when nothing fits", async () => {
    await h.addMember("n1", member(1, 1));
    await h.request("POST", "/1.0/cluster/members", { server_name: "n2" }); // Pending: no heartbeat yet
    await h.addMember("arm", member(64, 64, { architecture: "aarch64" }));
    const r = await h.request("POST", "/1.0/instances", { name: "x", architecture: "x86_64", config: { "limits.memory": "2GiB" } });
    expect(r.status).toBe(409);
    expect(Object.keys(r.body.metadata.rejected).sort()).toEqual(["arm", "n1", "n2"]);
    expect(r.body.metadata.rejected.n2).toContain("Pending");
    expect(r.body.metadata.rejected.arm).toMatch(/architecture/);
    expect(r.body.metadata.rejected.n1).toMatch(/memory/);
    expect(r.body.error).toContain("n1:");
  });
});

describe("POST /1.0/scheduler/placement", () => {
  it("returns the ranked candidates and rejections, changes nothing, and agrees with the real create", async () => {
    for (const [name, mem] of [["a", 16], ["b", 32], ["c", 8]] as const) await h.addMember(name, member(8, mem));
    await h.request("PATCH", "/1.0/cluster/members/c", { config: { "scheduler.instance": "manual" } });
    await h.request("POST", "/1.0/instances?target=a", { name: "existing" });
    const before = await h.berth.services.store.dumpTable("instances");
    const q = await h.request("POST", "/1.0/scheduler/placement", { name: "web", config: { "limits.cpu": "2", "limits.memory": "4GiB" } });
    expect(q.status).toBe(200);
    const m = q.body.metadata;
    expect(m.target).toBe("b"); // b has no instances; a has one; c is manual
    expect(m.candidates.map((c: any) => [c.server_name, c.rank, c.instance_count])).toEqual([["b", 1, 0], ["a", 2, 1]]);
    expect(m.candidates[0].free.cpu).toBe(32);
    expect(m.rejected).toEqual({ c: expect.stringContaining("manual") });
    expect(m.scriptlet).toMatchObject({ called: false });
    expect(await h.berth.services.store.dumpTable("instances")).toEqual(before);
    const created = await h.request("POST", "/1.0/instances", { name: "web", config: { "limits.cpu": "2", "limits.memory": "4GiB" } });
    expect(landed(created)).toBe(m.target);
  });

  it("breaks exact ties the same way in the query and the create (seeded by project and name)", async () => {
    for (let i = 0; i < 6; i++) await h.addMember(`n${i}`, member(8, 16));
    for (const name of ["alpha", "beta", "gamma", "delta"]) {
      const q = await h.request("POST", "/1.0/scheduler/placement", { name });
      const c = await h.request("POST", "/1.0/instances", { name });
      expect(landed(c), name).toBe(q.body.metadata.target);
    }
  });

  it("names every resource a member is short of, in the reason and as numbers", async () => {
    // n1 offers 2 cpus × ratio 4 = 8 cores (6 taken by "base"), 4GiB memory (3GiB taken), a 10GiB
    // pool and one gpu. The query asks 4 cores, 2GiB, a 20GiB root disk and 1 gpu: cpu (2 free),
    // memory (1GiB free) and disk (10GiB free) are short; the gpu fits.
    // n2 has no gpu and no pool "default": disk and gpu are short, cpu and memory fit.
    const root = (size: string) => ({ root: { type: "disk", path: "/", pool: "default", size } });
    expect((await h.request("POST", "/1.0/storage-pools", { name: "default", driver: "dir" })).status).toBe(201);
    await h.addMember("n1", { resources: {
      cpu: { total: 2 }, memory: { total: 4 * GiB }, storage: { pools: { default: { total: 10 * GiB } } }, gpu: { total: 1 },
    } });
    await h.addMember("n2", member(64, 64));
    const base = await h.request("POST", "/1.0/instances?target=n1", { name: "base", config: { "limits.cpu": "6", "limits.memory": "3GiB" } });
    expect(base.status).toBe(202); // stored and placed before the answer, as LXD's async create
    expect((await h.request("GET", `${base.body.operation}/wait?timeout=30`)).body.metadata.status).toBe("Success");
    const ask = { name: "big", config: { "limits.cpu": "4", "limits.memory": "2GiB", "limits.gpu": "1" }, devices: root("20GiB") };

    const q = await h.request("POST", "/1.0/scheduler/placement", ask);
    expect(q.status).toBe(200);
    expect(q.body.metadata.target).toBeNull();
    expect(q.body.metadata.rejected).toEqual({
      n1: "resources: needs 4 cpu, 2 of 8 (2 × ratio 4) free; needs 2GiB memory, 1GiB of 4GiB (4GiB × ratio 1) free; " +
        'needs 20GiB root disk on pool "default", 10GiB of 10GiB free',
      n2: 'resources: needs 20GiB root disk on pool "default", which the member does not have; needs 1 gpu, 0 of 0 free',
    });
    expect(q.body.metadata.insufficient).toEqual({
      n1: [
        { resource: "cpu", requested: 4, allocated: 6, capacity: 8 },
        { resource: "memory", requested: 2 * GiB, allocated: 3 * GiB, capacity: 4 * GiB },
        { resource: "disk", requested: 20 * GiB, allocated: 0, capacity: 10 * GiB, pool: "default" },
      ],
      n2: [
        { resource: "disk", requested: 20 * GiB, allocated: 0, capacity: 0, pool: "default" },
        { resource: "gpu", requested: 1, allocated: 0, capacity: 0 },
      ],
    });

    // The create answers 409 with the same reasons and numbers, and the message lists them all.
    const create = await h.request("POST", "/1.0/instances", ask);
    expect(create.status, create.body.error).toBe(409);
    expect(create.body.metadata).toEqual({ rejected: q.body.metadata.rejected, insufficient: q.body.metadata.insufficient });
    expect(create.body.error).toContain("n1: resources: needs 4 cpu, 2 of 8 (2 × ratio 4) free; needs 2GiB memory");
  });

  it("answers an empty insufficient when no member is short of resources", async () => {
    await h.addMember("n1", member(8, 16));
    await h.addMember("arm", member(8, 16, { architecture: "aarch64" }));
    const q = await h.request("POST", "/1.0/scheduler/placement", { name: "web", architecture: "x86_64" });
    expect(q.body.metadata).toMatchObject({ target: "n1", rejected: { arm: expect.stringMatching(/^architecture: /) }, insufficient: {} });
  });

  it("validates the query body", async () => {
    await h.addMember("n1", member(8, 16));
    expect((await h.request("POST", "/1.0/scheduler/placement", { reason: "boredom" })).status).toBe(400);
    expect((await h.request("POST", "/1.0/scheduler/placement", { config: { "limits.cpu": "x" } })).status).toBe(400);
    expect((await h.request("POST", "/1.0/scheduler/placement", { target: "ghost" })).status).toBe(404);
    const none = await h.request("POST", "/1.0/scheduler/placement", { config: { "limits.cpu": "1000" } });
    expect(none.status).toBe(200);
    expect(none.body.metadata).toMatchObject({ target: null, rejected: { n1: expect.stringContaining("cpu") } });
  });

  // Issue 13, point 8: the query refuses what create refuses, with the same 400 (one validation).
  it.each([
    ["a volatile key", { config: { "volatile.cluster.group": "default" } }],
    ["an unknown config key", { config: { "limits.cpus": "2" } }],
    ["a bad value", { config: { "limits.memory": "lots" } }],
    ["an unknown pool", { devices: { root: { type: "disk", path: "/", pool: "nowhere" } } }],
    ["a pending pool", { devices: { root: { type: "disk", path: "/", pool: "half" } } }],
    ["a bad device", { devices: { eth0: { type: "warp-drive" } } }],
    ["a bad name", { name: "no spaces please" }],
  ])("refuses %s exactly as create does", async (_label, body) => {
    await h.addMember("n1", member(8, 16));
    expect((await h.request("POST", "/1.0/storage-pools", { name: "default", driver: "dir" })).status).toBe(201);
    expect((await h.request("POST", "/1.0/storage-pools?target=n1", { name: "half", driver: "dir" })).status).toBe(201);
    const full = { name: "same", ...body };
    const create = await h.request("POST", "/1.0/instances", full);
    const query = await h.request("POST", "/1.0/scheduler/placement", full);
    expect(create.status).toBe(400);
    expect(query.status).toBe(400);
    expect(query.body.error).toBe(create.body.error);
  });

  it("a query no member can take answers as a create would: target null, the create's 409 message and code in error and error_code", async () => {
    await h.addMember("n1", member(8, 16));
    const body = { name: "huge", config: { "limits.cpu": "1000" } };
    const create = await h.request("POST", "/1.0/instances", body);
    expect(create.status).toBe(409);
    const q = (await h.request("POST", "/1.0/scheduler/placement", body)).body.metadata;
    expect(q).toMatchObject({ target: null, error: create.body.error, error_code: 409 });
    const fits = (await h.request("POST", "/1.0/scheduler/placement", { name: "small" })).body.metadata;
    expect(fits).toMatchObject({ target: "n1", error: null, error_code: null });
  });
});

describe("relocation", () => {
  it("moves an instance without a target elsewhere (async), keeping it running", async () => {
    await h.addMember("n1", member(8, 16));
    await h.addMember("n2", member(8, 16));
    await h.createInstance({ name: "web", start: true }, "target=n1");
    const r = await h.request("POST", "/1.0/instances/web", { migration: true });
    expect(r.status).toBe(202);
    const done = await h.request("GET", `${r.body.operation}/wait?timeout=5`);
    expect(done.body.metadata).toMatchObject({ status: "Success", metadata: { from: "n1", to: "n2", status: "Running" } });
    expect((await h.request("GET", "/1.0/instances/web")).body.metadata).toMatchObject({ location: "n2", status: "Running" });
  });

  it("moves to a named member or group; refuses the current member, unknown targets and a full cluster", async () => {
    await h.addMember("n1", member(8, 16));
    await h.addMember("n2", member(8, 16));
    await h.addMember("n3", member(8, 16));
    await h.request("POST", "/1.0/cluster/groups", { name: "g3", members: ["n3"] });
    await h.request("POST", "/1.0/instances?target=n1", { name: "web" });
    const toN2 = await h.request("POST", "/1.0/instances/web?target=n2", { migration: true });
    await h.request("GET", `${toN2.body.operation}/wait?timeout=5`);
    expect((await h.request("GET", "/1.0/instances/web")).body.metadata.location).toBe("n2");
    const toG3 = await h.request("POST", "/1.0/instances/web?target=@g3", { migration: true });
    await h.request("GET", `${toG3.body.operation}/wait?timeout=5`);
    expect((await h.request("GET", "/1.0/instances/web")).body.metadata.location).toBe("n3");
    expect((await h.request("POST", "/1.0/instances/web?target=n3", { migration: true })).status).toBe(400);
    expect((await h.request("POST", "/1.0/instances/web?target=ghost", { migration: true })).status).toBe(404);
    expect((await h.request("POST", "/1.0/instances/web", { migration: false })).status).toBe(400);
    await h.request("POST", "/1.0/instances?target=n1", { name: "huge", config: { "limits.memory": "10GiB" } });
    await h.request("POST", "/1.0/instances?target=n2", { name: "fill2", config: { "limits.memory": "10GiB" } });
    await h.request("POST", "/1.0/instances?target=n3", { name: "fill3", config: { "limits.memory": "10GiB" } });
    const noRoom = await h.request("POST", "/1.0/instances/huge", { migration: true });
    expect(noRoom.status).toBe(409);
    expect(noRoom.body.metadata.rejected).toMatchObject({ n1: expect.stringContaining("exclude"), n2: expect.stringContaining("memory") });
  });
});
