/** The example scriptlets in scriptlets/, run in the real sandbox against hand-built clusters. */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScriptletSandbox } from "../../src/sandbox/index.ts";
import type { ReplicaSnapshot, ScriptletOutcome, ScriptletRequest } from "../../src/sandbox/index.ts";
import { instance, member, memberState, project, request, snapshot } from "../sandbox/fixtures.ts";

const example = (name: string): string => readFileSync(new URL(`../../scriptlets/${name}.js`, import.meta.url), "utf8");

let sb: ScriptletSandbox;
beforeAll(async () => {
  sb = new ScriptletSandbox({ timeoutMs: 5000, memoryMb: 32, poolSize: 1 }); // room for a loaded machine
  await sb.ready();
});
afterAll(() => sb.close());

async function decide(source: string, cluster: ReplicaSnapshot, req: ScriptletRequest, candidates: string[]): Promise<ScriptletOutcome> {
  sb.reset(cluster);
  const out = await sb.test(source, req, candidates);
  expect(out.error).toBeNull();
  return out;
}

describe("spread-failure-domains.js", () => {
  const src = example("spread-failure-domains");
  // rackA holds 2 instances of "default", rackB 1, rackC none (its instance belongs to "other").
  const racks = snapshot({
    members: [
      member("a1").domain("rackA").build(), member("a2").domain("rackA").build(),
      member("b1").domain("rackB").build(), member("c1").domain("rackC").build(),
    ],
    instances: [
      instance("i1", "a1"), instance("i2", "a2"), instance("i3", "b1"),
      instance("o1", "c1", { project: "other" }),
    ],
    projects: [project("default"), project("other")],
  });
  it("picks the domain with the fewest instances of the project", async () => {
    expect((await decide(src, racks, request("new1"), ["a1", "b1", "c1"])).target).toBe("c1");
  });
  it("falls back to the next emptiest domain among the candidates", async () => {
    expect((await decide(src, racks, request("new1"), ["a2", "a1", "b1"])).target).toBe("b1");
  });
  it("keeps the built-in ranking within a domain and between equal domains", async () => {
    // For project "other", rackA and rackB are both empty: the better-ranked candidate wins.
    expect((await decide(src, racks, request("o2", { project: "other" }), ["b1", "a2", "a1", "c1"])).target).toBe("b1");
  });
  it("logs its choice", async () => {
    expect((await decide(src, racks, request("new1"), ["a1", "c1"])).logs[0].message).toBe("spread: new1 -> c1 (domain rackC has 0)");
  });
  it("counts placements still in flight: an evacuation planned all at once spreads evenly", async () => {
    // 30 instances leave s1; every move is planned (a pending placement) before any instance moves.
    const evacuating = snapshot({
      members: [
        member("s1").domain("rackS").build(),
        ...["A", "B", "C"].flatMap((d) => [member(`${d.toLowerCase()}1`).domain(`rack${d}`).build(), member(`${d.toLowerCase()}2`).domain(`rack${d}`).build()]),
      ],
      instances: Array.from({ length: 30 }, (_, i) => instance(`vm${i}`, "s1")),
    });
    sb.reset(evacuating);
    const perDomain: Record<string, number> = {};
    for (let i = 0; i < 30; i++) {
      const out = await sb.test(src, request(`vm${i}`, { reason: "evacuation" }), ["a1", "a2", "b1", "b2", "c1", "c2"]);
      expect(out.error).toBeNull();
      const target = out.target!;
      sb.applyDelta({ kind: "pending.add", placement: { id: `p${i}`, project: "default", location: target, name: `vm${i}` } });
      const domain = `rack${target[0].toUpperCase()}`;
      perDomain[domain] = (perDomain[domain] ?? 0) + 1;
    }
    expect(perDomain).toEqual({ rackA: 10, rackB: 10, rackC: 10 });
  });
  it("counts a finished move once: as an instance, not also as a placement in flight", async () => {
    sb.reset(racks);
    // A move to c1 is in flight, another to b1 has landed (its pending placement is gone).
    sb.applyDelta({ kind: "pending.add", placement: { id: "p1", project: "default", location: "c1", name: "m1" } });
    sb.applyDelta({ kind: "instance.upsert", instance: instance("m2", "b1") });
    // rackA 2, rackB 2, rackC 1 (in flight): c1 still wins, with 1.
    const out = await sb.test(src, request("new1"), ["a1", "b1", "c1"]);
    expect(out).toMatchObject({ target: "c1", logs: [{ message: "spread: new1 -> c1 (domain rackC has 1)" }] });
  });
});

describe("gpu-only-on-gpu-members.js", () => {
  const src = example("gpu-only-on-gpu-members");
  const gpus = snapshot({
    members: [member("g1").gpus(2).build(), member("g2").gpus(1).build(), member("p1").build(), member("p2").build()],
  });
  const gpuDevice = { root: { type: "disk", path: "/", pool: "default" }, gpu0: { type: "gpu" } };
  it("puts a GPU instance on the best-ranked member with a GPU", async () => {
    expect((await decide(src, gpus, request("ml", { devices: gpuDevice }), ["p1", "g2", "g1"])).target).toBe("g2");
  });
  it("counts limits.gpu", async () => {
    expect((await decide(src, gpus, request("ml", { config: { "limits.gpu": "2" } }), ["p1", "g2", "g1"])).target).toBe("g1");
  });
  it("rejects a GPU instance when no candidate has enough GPUs", async () => {
    const out = await decide(src, gpus, request("ml", { config: { "limits.gpu": "4" } }), ["g1", "g2", "p1"]);
    expect(out).toMatchObject({ target: null, rejected: "No candidate member has 4 GPU(s) for ml" });
  });
  it("keeps other instances off GPU members while it can", async () => {
    expect((await decide(src, gpus, request("web"), ["g1", "p2", "p1"])).target).toBe("p2");
    expect(await decide(src, gpus, request("web"), ["g1", "g2"])).toMatchObject({ target: null, rejected: null });
  });
});

describe("project-in-one-group.js", () => {
  const src = example("project-in-one-group");
  const groups = snapshot({
    members: [
      member("r1").groups("red").build(), member("r2").groups("red").build(),
      member("b1").groups("blue").build(), member("b2").groups("blue").build(),
    ],
    instances: [instance("cart-1", "b2", { project: "shop" })],
    projects: [project("default"), project("shop"), project("pinned", { "user.placement_group": "red" }), project("fresh")],
  });
  it("keeps a project in the group its instances already use", async () => {
    expect((await decide(src, groups, request("cart-2", { project: "shop" }), ["r1", "b1", "r2"])).target).toBe("b1");
  });
  it("uses the project's user.placement_group when set", async () => {
    expect((await decide(src, groups, request("x", { project: "pinned" }), ["b1", "r2", "r1"])).target).toBe("r2");
  });
  it("leaves a new project to the built-in placement", async () => {
    expect(await decide(src, groups, request("x", { project: "fresh" }), ["b1", "r1"])).toMatchObject({ target: null, rejected: null });
  });
  it("rejects rather than leave the group", async () => {
    const out = await decide(src, groups, request("cart-3", { project: "shop" }), ["r1", "r2"]);
    expect(out.rejected).toBe("Project shop is kept in cluster group blue, which has no candidate member for cart-3");
  });
});

describe("anti-affinity-by-prefix.js", () => {
  const src = example("anti-affinity-by-prefix");
  const web = snapshot({
    members: [member("n1").build(), member("n2").build(), member("n3").build()],
    instances: [instance("web-1", "n1"), instance("web-2", "n2"), instance("db-1", "n3")],
  });
  it("avoids members that already run a replica", async () => {
    expect((await decide(src, web, request("web-3"), ["n1", "n2", "n3"])).target).toBe("n3");
  });
  it("rejects when every candidate runs a replica", async () => {
    expect((await decide(src, web, request("web-3"), ["n2", "n1"])).rejected).toBe("Every candidate member already runs an instance named web-*");
  });
  it("does not count the instance being moved", async () => {
    expect((await decide(src, web, request("web-1", { reason: "relocation" }), ["n1", "n2"])).target).toBe("n1");
  });
  it("leaves names without a prefix alone", async () => {
    expect(await decide(src, web, request("standalone"), ["n1"])).toMatchObject({ target: null, rejected: null });
  });
});

describe("refuse-evacuation-to-loaded.js", () => {
  const src = example("refuse-evacuation-to-loaded");
  // hot: 7.5 load on 8 CPUs (0.94 per CPU); warm: 0.5 (0.06); busy: no state report, resources say 6.4 on 8 (0.8 — at the limit).
  const loads = snapshot({
    members: [member("hot").build(), member("warm").build(), member("busy").load(6.4).build(), member("idle").build()],
    member_states: { hot: memberState(7.5), warm: memberState(0.5) },
  });
  const evacuation = request("vm1", { reason: "evacuation" });
  it("skips loaded members during an evacuation", async () => {
    const out = await decide(src, loads, evacuation, ["hot", "warm"]);
    expect(out.target).toBe("warm");
    expect(out.logs).toEqual([{ level: "warn", message: "evacuation: skipping hot, load per CPU 0.94" }]);
  });
  it("falls back to the resources' load average without a state report", async () => {
    expect((await decide(src, loads, evacuation, ["hot", "busy"])).target).toBe("busy");
  });
  it("rejects an evacuation when every candidate is loaded", async () => {
    expect((await decide(src, loads, evacuation, ["hot"])).rejected).toBe("Every candidate member is above 0.8 load per CPU; not evacuating vm1 onto a loaded member");
  });
  it("leaves new placements to the built-in ranking", async () => {
    expect(await decide(src, loads, request("vm2"), ["hot", "warm"])).toMatchObject({ target: null, rejected: null, logs: [] });
  });
});
