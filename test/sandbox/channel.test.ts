/**
 * The shared-memory call channel (src/sandbox/channel.ts): calls see exactly the deltas sent before
 * them, calls or replies too big for the shared buffer go by postMessage, candidates sent as ids
 * (ranking.ts) arrive in their order, and the "same candidates as last time" shortcut and instance
 * updates keep answers right while the cluster changes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScriptletSandbox } from "../../src/sandbox/index.ts";
import { instance, member, request, snapshot } from "./fixtures.ts";
import { scriptlet } from "./support.ts";

let sb: ScriptletSandbox;
beforeAll(async () => {
  sb = new ScriptletSandbox({ timeoutMs: 5000, memoryMb: 32, poolSize: 1 }); // no test here is about the limit: room for a loaded machine
  sb.reset(snapshot({ members: [member("n1").build(), member("n2").build()] }));
  await sb.ready();
});
afterAll(() => sb.close());

describe("call channel", () => {
  it("a call sees every delta sent before it and none sent after it", async () => {
    await sb.install(scriptlet(`return String(get_instances_count());`));
    for (let i = 0; i < 300; i++) {
      sb.applyDelta({ kind: "instance.upsert", instance: instance(`x${i}`, "n1") });
      const call = sb.place(request(`c${i}`), ["n1", "n2"]);
      sb.applyDelta({ kind: "instance.upsert", instance: instance(`y${i}`, "n2") }); // after the call: not seen by it
      expect((await call).rejected).toBe(String(2 * i + 1));
    }
  });
  it("posts a call too big for the shared buffer, and a reply too big for it", async () => {
    const many = Array.from({ length: 3000 }, (_, i) => `member-${i}-${"x".repeat(100)}`); // ~330 KB of names
    sb.reset(snapshot({ members: many.map((n) => member(n).build()) }));
    await sb.install(scriptlet(`
      if (request.name === "loud") for (let i = 0; i < 900; i++) log_info("\\u0001".repeat(70)); // 6 bytes each as JSON
      set_target(candidate_members[candidate_members.length - 1].server_name);`));
    const big = await sb.place(request("quiet"), many);
    expect(big).toMatchObject({ target: many[many.length - 1], error: null });
    const loud = await sb.place(request("loud"), [many[7]]);
    expect(loud.logs).toHaveLength(900);
    expect(loud.logs[899].message).toBe("\u0001".repeat(70));
    expect(loud.target).toBe(many[7]);
    // and the channel still works for ordinary calls afterwards
    expect((await sb.place(request("quiet"), [many[3]])).target).toBe(many[3]);
  });
  it("repeated candidate lists and changing members and instances give fresh answers", async () => {
    sb.reset(snapshot({ members: [member("a").domain("r1").build(), member("b").domain("r2").build()] }));
    await sb.install(scriptlet(`
      const where = get_instances().map((i) => i.name + "@" + i.location).sort().join(",");
      log_info(candidate_members.map((m) => m.server_name + ":" + m.failure_domain).join(","), " | ", where);`));
    const seen = async () => (await sb.place(request("c"), ["a", "b"])).logs[0].message;
    expect(await seen()).toBe("a:r1,b:r2 | ");
    sb.applyDelta({ kind: "member.upsert", member: member("b").domain("r9").build() });
    sb.applyDelta({ kind: "instance.upsert", instance: instance("i1", "a") });
    expect(await seen()).toBe("a:r1,b:r9 | i1@a");
    sb.applyDelta({ kind: "instance.upsert", instance: instance("i1", "b") }); // moved
    sb.applyDelta({ kind: "instance.upsert", instance: instance("i2", "a") });
    expect(await seen()).toBe("a:r1,b:r9 | i1@b,i2@a");
    sb.applyDelta({ kind: "instance.remove", project: "default", name: "i1" });
    sb.applyDelta({ kind: "instance.upsert", instance: instance("i3", "b") }); // may reuse i1's slot
    expect(await seen()).toBe("a:r1,b:r9 | i2@a,i3@b");
    expect(await seen()).toBe("a:r1,b:r9 | i2@a,i3@b");
  });
  it("candidate lists sent as ids arrive in order while rankings, members and names change", async () => {
    const names = ["a", "b", "c", "d", "e"];
    sb.reset(snapshot({ members: names.map((n) => member(n).build()) }));
    await sb.install(scriptlet(`log_info(candidate_members.map((m) => m.server_name).join(","));`));
    const order = async (list: string[]) => {
      const out = await sb.place(request("c"), list);
      return out.error ?? out.logs[0].message;
    };
    // permutations and subsets, every call a new ranking, some repeated
    for (const list of [["a", "b", "c"], ["c", "b", "a"], ["c", "b", "a"], ["e", "d", "c", "b", "a"], ["b"], [], ["d", "a"]]) {
      expect(await order(list)).toBe(list.join(","));
    }
    // a member first seen now: its name travels once, then as an id
    sb.applyDelta({ kind: "member.upsert", member: member("f").build() });
    expect(await order(["f", "a"])).toBe("f,a");
    expect(await order(["a", "f"])).toBe("a,f");
    // a member removed after the ranking was made is left out (it is no member any more), and is a
    // candidate again once re-added (under its old slot)
    sb.applyDelta({ kind: "member.remove", name: "c" });
    expect(await order(["a", "c"])).toBe("a");
    expect(await order(["a", "c"])).toBe("a"); // the same list again: still checked
    expect(await order(["c"])).toBe("");
    sb.applyDelta({ kind: "member.upsert", member: member("c").build() });
    expect(await order(["a", "c"])).toBe("a,c");
    expect(await order(["c", "a"])).toBe("c,a");
  });
  it("a first call whose names do not fit the shared buffer is posted; later rankings of them go as ids", async () => {
    const many = Array.from({ length: 3000 }, (_, i) => `m-${i}-${"y".repeat(100)}`); // ~330 KB of new names
    sb.reset(snapshot({ members: many.map((n) => member(n).build()) }));
    await sb.install(scriptlet(`log_info(candidate_members.length, " ", candidate_members[0].server_name, " ", candidate_members[2999].server_name);`));
    const first = await sb.place(request("c"), many);
    expect(first.logs[0].message).toBe(`3000 ${many[0]} ${many[2999]}`);
    const reversed = [...many].reverse(); // all names known now: 12 KB of ids instead
    expect((await sb.place(request("c"), reversed)).logs[0].message).toBe(`3000 ${many[2999]} ${many[0]}`);
    expect((await sb.stats()).restarts).toBe(0);
  });
  it("a place call carries any request text and member names, separators included", async () => {
    const odd = ["odd\u0001name", "quote\"and\\slash", "\u0002\u0000"];
    sb.reset(snapshot({ members: odd.map((n) => member(n).build()) }));
    await sb.install(scriptlet(`log_info(JSON.stringify([request.description, request.config, candidate_members.map((m) => m.server_name), get_instance_resources()]));`));
    const req = request("c", { description: "P\u0001 1\u0001\u0001{", config: { "user.x": "\u0001" }, resources: { cpu_cores: 2, memory_size: 3, root_disk_size: 4 } });
    for (const list of [odd, [...odd].reverse()]) {
      const out = await sb.place(req, list);
      expect(JSON.parse(out.logs[0].message)).toEqual([req.description, req.config, list, { cpu_cores: 2, memory_size: 3, root_disk_size: 4 }]);
    }
  });
  it("set_target accepts a candidate far down a long list and refuses a member not in it", async () => {
    const names = Array.from({ length: 100 }, (_, i) => `n${i}`);
    sb.reset(snapshot({ members: names.map((n) => member(n).build()) }));
    await sb.install(scriptlet(`set_target(request.name);`));
    const list = names.slice(0, 90);
    for (const pick of ["n0", "n63", "n64", "n89"]) expect(await sb.place(request(pick), list)).toMatchObject({ target: pick, error: null });
    for (const pick of ["n90", "n99"]) expect((await sb.place(request(pick), list)).rejected).toMatch(`Invalid member name: ${pick}`);
  });
});
