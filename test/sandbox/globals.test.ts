/** Every §4 global and every result form, through ScriptletSandbox.test() against a small cluster. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScriptletSandbox } from "../../src/sandbox/index.ts";
import type { ScriptletOutcome, ScriptletRequest } from "../../src/sandbox/index.ts";
import { member, request } from "./fixtures.ts";
import { ALL, scriptlet, smallCluster } from "./support.ts";

let sb: ScriptletSandbox;
beforeAll(async () => {
  sb = new ScriptletSandbox({ timeoutMs: 5000, memoryMb: 32 }); // no test here is about the limit: room for a loaded machine
  sb.reset(smallCluster());
  await sb.ready();
});
afterAll(async () => {
  const { workers } = await sb.stats();
  expect(workers.map((w) => w?.dispose_failures)).toEqual(workers.map(() => 0)); // no QuickJS handle leaked
  await sb.close();
});

const run = (body: string, req: ScriptletRequest = request("c1"), names = ALL): Promise<ScriptletOutcome> =>
  sb.test(scriptlet(body), req, names);
/** Runs `body` and returns what it logged with log_info(JSON.stringify(value)). */
async function value(expr: string, req?: ScriptletRequest): Promise<unknown> {
  const out = await run(`log_info(JSON.stringify(${expr}));`, req);
  expect(out.error).toBeNull();
  return JSON.parse(out.logs[0].message);
}

describe("results", () => {
  it("accepts with the set_target choice", async () => {
    const out = await run(`set_target("n2");`);
    expect(out).toMatchObject({ called: true, target: "n2", rejected: null, error: null });
  });
  it("reports how long the call took", async () => {
    const out = await run(`const end = Date.now() + 30; while (Date.now() < end) {} set_target("n1");`);
    expect(out.target).toBe("n1");
    expect(out.duration_ms).toBeGreaterThanOrEqual(25); // it spun for 30 ms
    expect(out.duration_ms).toBeLessThan(500); // under the time limit: it was not stopped
  });
  it("accepts with the built-in choice when set_target is not called", async () => {
    expect(await run(`return;`)).toMatchObject({ target: null, rejected: null, error: null });
  });
  it("set_cluster_member_target is an alias", async () => {
    expect((await run(`set_cluster_member_target("n3");`)).target).toBe("n3");
  });
  it("the last set_target wins", async () => {
    expect((await run(`set_target("n1"); set_target("n3");`)).target).toBe("n3");
  });
  it("rejects with a returned string, deliberately (no error)", async () => {
    expect(await run(`set_target("n1"); return "no room for " + request.name;`)).toMatchObject({ target: null, rejected: "no room for c1", error: null });
  });
  it("rejects an empty returned string with a default message", async () => {
    expect((await run(`return "";`)).rejected).toBe("Placement rejected by the scriptlet");
  });
  it("rejects with fail(message), even when the scriptlet catches it", async () => {
    expect(await run(`fail("nope");`)).toMatchObject({ rejected: "nope", error: null });
    expect(await run(`try { fail("caught"); } catch (e) {} set_target("n1");`)).toMatchObject({ target: null, rejected: "caught" });
    expect((await run(`fail();`)).rejected).toMatch(/fail\(\) called/);
  });
  it("rejects a throw with the message and line:column", async () => {
    const out = await run(`\n  throw new RangeError("bad " + request.name);`);
    expect(out.rejected).toMatch(/^RangeError: bad c1 \(line 3:\d+\)$/);
    expect(out.error).toBe(out.rejected);
  });
  it("reports runtime errors with their location", async () => {
    expect((await run(`const x = undefined;\nreturn x.y;`)).rejected).toMatch(/^TypeError: cannot read property 'y' of undefined \(line 3:\d+\)$/);
  });
  it.each([
    ["a number", "return 42;", "number"],
    ["null", "return null;", "object"],
    ["an object", "return { target: 'n1' };", "object"],
    ["a boolean", "return true;", "boolean"],
    ["a function", "return () => 1;", "function"],
  ])("rejects returning %s as unsupported", async (_what, body, type) => {
    const out = await run(body);
    expect(out.rejected).toBe(`instance_placement returned an unsupported value of type ${type}; return nothing to accept the placement or a string to reject it`);
    expect(out.error).toBe(out.rejected);
  });
});

describe("request and candidates", () => {
  it("passes the request fields (config and devices expanded), without the resources", async () => {
    const req = request("c9", { project: "prod", reason: "evacuation", config: { "limits.cpu": "2" }, description: "d" });
    const { resources: _r, ...visible } = { ...req, resources: null };
    expect(await value("request", req)).toEqual(visible);
  });
  it("passes candidate members in ranked order with the API's Member shape", async () => {
    const out = await sb.test(scriptlet(`log_info(JSON.stringify(candidate_members));`), request("c1"), ["n3", "n1"]);
    const members = JSON.parse(out.logs[0].message);
    expect(members.map((m: { server_name: string }) => m.server_name)).toEqual(["n3", "n1"]);
    expect(members[1]).toEqual(smallCluster().members[0]);
  });
  it("hands out frozen members: a scriptlet cannot change what the next call sees", async () => {
    const out = await run(`"use strict"; candidate_members[0].failure_domain = "x";`);
    expect(out.rejected).toMatch(/^TypeError: .*read-only/);
    expect(await value("candidate_members[0].failure_domain")).toBe("rack1");
  });
  it("reflects deltas sent before the call", async () => {
    sb.applyDelta({ kind: "member.upsert", member: member("n4").domain("rack9").build() });
    expect(await sb.test(scriptlet(`set_target(candidate_members[0].failure_domain === "rack9" ? "n4" : "n1");`), request("c"), ["n4"]))
      .toMatchObject({ target: "n4" });
    sb.applyDelta({ kind: "member.remove", name: "n4" });
    // Removed after the ranking: no longer a member, so no longer a candidate.
    expect(await sb.test(scriptlet(`log_info(candidate_members.length);`), request("c"), ["n4"])).toMatchObject({ error: null, logs: [{ message: "0" }] });
  });
});

describe("helpers", () => {
  it("log_* join their arguments: strings as-is, other values as JSON", async () => {
    const out = await run(`log_info("a ", 1, " ", {b: [2]}, " ", null, " ", undefined); log_warn("w"); log_error("e", true);`);
    expect(out.logs).toEqual([
      { level: "info", message: 'a 1 {"b":[2]} null undefined' },
      { level: "warn", message: "w" },
      { level: "error", message: "etrue" },
    ]);
  });
  it("log_* print values JSON cannot: cyclic objects, symbols, bigints", async () => {
    const out = await run(`const o = {}; o.o = o; log_info(o, " ", Symbol("s"), " ", 10n);`);
    expect(out.logs[0].message).toBe("[object Object] Symbol(s) 10");
  });
  it("caps logs at 1,000 lines per call with a marker", async () => {
    const out = await run(`for (let i = 0; i < 5000; i++) log_info("line ", i);`);
    expect(out.logs).toHaveLength(1001);
    expect(out.logs.at(-1)).toEqual({ level: "warn", message: "[log truncated]" });
  });
  it("caps logs at 64 KiB per call", async () => {
    const out = await run(`for (let i = 0; i < 100; i++) log_info("x".repeat(10000));`);
    const bytes = out.logs.reduce((n, l) => n + l.message.length, 0);
    expect(bytes).toBeLessThanOrEqual(64 * 1024 + "[log truncated]".length);
    expect(out.logs.at(-1)?.message).toBe("[log truncated]");
  });
  it("set_target refuses a member that is not a candidate, and the placement is rejected", async () => {
    const out = await sb.test(scriptlet(`try { set_target("n3"); } catch (e) { log_info(e.message); }`), request("c"), ["n1", "n2"]);
    expect(out.logs[0].message).toBe("Invalid member name: n3");
    expect(out).toMatchObject({ target: null, rejected: "Invalid member name: n3", error: "Invalid member name: n3" });
  });
  it.each([
    ["set_target(1)", /^TypeError: set_target\(name\) expects a string, got number/],
    ["get_instances('n1')", /^TypeError: get_instances\(\) expects an options object such as \{project, location\}, got string/],
    ["get_instances({locaton: 'n1'})", /^TypeError: get_instances\(\): unknown option "locaton" \(expected project, location\)/],
    ["get_instances_count({pending: 'yes'})", /^TypeError: get_instances_count\(\): option pending must be a boolean, got string/],
    ["get_cluster_members({group: 1})", /^TypeError: get_cluster_members\(\): option group must be a string, got number/],
    ["get_project()", /^TypeError: get_project\(name\) expects a string, got undefined/],
    ["get_cluster_member_state(null)", /^TypeError: get_cluster_member_state\(name\) expects a string, got null/],
  ])("%s throws a clear TypeError", async (call, message) => {
    expect((await run(`${call};`)).rejected).toMatch(message);
  });
  it("get_cluster_member_resources returns the member's resources", async () => {
    expect(await value(`get_cluster_member_resources("n2")`)).toEqual(smallCluster().members[1].resources);
    expect((await run(`get_cluster_member_resources("zz");`)).rejected).toMatch(/^Error: Unknown cluster member: zz/);
  });
  it("get_cluster_member_state returns the state report, or null when none", async () => {
    expect(await value(`get_cluster_member_state("n3")`)).toEqual(smallCluster().member_states.n3);
    expect(await value(`get_cluster_member_state("n2")`)).toBeNull();
  });
  it("get_instance_resources derives cpu, memory and root disk from the request", async () => {
    const req = request("c", { config: { "limits.cpu": "4", "limits.memory": "2GiB" } });
    expect(await value("get_instance_resources()", req)).toEqual({ cpu_cores: 4, memory_size: 2 * 1024 ** 3, root_disk_size: 10 * 1024 ** 3 });
    const given = request("c", { resources: { cpu_cores: 1, memory_size: 2, root_disk_size: 3 } });
    expect(await value("get_instance_resources()", given)).toEqual({ cpu_cores: 1, memory_size: 2, root_disk_size: 3 });
  });
  it("get_instances filters by project and location; the list is the scriptlet's, the instances are frozen", async () => {
    const names = (expr: string) => value(`${expr}.map((i) => i.name).sort()`);
    expect(await names("get_instances()")).toEqual(["db-1", "web-1", "web-2"]);
    expect(await names(`get_instances({project: "default"})`)).toEqual(["web-1", "web-2"]);
    expect(await names(`get_instances({location: "n2"})`)).toEqual(["db-1", "web-2"]);
    expect(await names(`get_instances({project: "prod", location: "n1"})`)).toEqual([]);
    expect(await value(`(() => { const l = get_instances(); l.push(1); l.sort(); return [l.length, Object.isFrozen(l[0])]; })()`)).toEqual([4, true]);
    expect(await value(`get_instances({location: "n1"})[0]`)).toEqual({ name: "web-1", project: "default", type: "container", location: "n1", status: "Running", config: {}, devices: {} });
  });
  it("get_instances_count counts, with pending placements on request", async () => {
    expect(await value(`[get_instances_count(), get_instances_count({project: "default"}), get_instances_count({location: "n3"}), get_instances_count({location: "n3", pending: true})]`))
      .toEqual([3, 2, 0, 1]);
  });
  it("options are read whole before a helper answers, even when a getter among them calls another helper", async () => {
    const tricky = `{ get project() { get_instances_count({ project: "prod", location: "n2", pending: true }); return "default"; }, location: "n2" }`;
    expect(await value(`get_instances(${tricky}).map((i) => i.name)`)).toEqual(["web-2"]);
    expect(await value(`get_instances_count(${tricky})`)).toBe(1);
  });
  it("get_cluster_members lists members, by group", async () => {
    expect(await value(`get_cluster_members().map((m) => m.server_name)`)).toEqual(["n1", "n2", "n3"]);
    expect(await value(`get_cluster_members({group: "gpu"}).map((m) => m.server_name)`)).toEqual(["n2"]);
    expect(await value(`get_cluster_members({group: "nope"})`)).toEqual([]);
  });
  it("get_project returns the project or throws for an unknown one", async () => {
    expect(await value(`get_project("prod")`)).toEqual({ name: "prod", description: "", config: { "restricted.cluster.groups": "gpu" } });
    expect((await run(`get_project("nope");`)).rejected).toMatch(/^Error: Unknown project: nope/);
  });
  it("nothing of the host is reachable", async () => {
    const names = ["require", "process", "fetch", "setTimeout", "setInterval", "WebAssembly", "SharedArrayBuffer", "Atomics", "console", "std", "os", "Buffer", "module", "global"];
    expect(await value(`${JSON.stringify(names)}.map((n) => typeof globalThis[n])`)).toEqual(names.map(() => "undefined"));
  });
  it("the helpers cannot be replaced, and set_target works after an attempt", async () => {
    const out = await run(`"use strict"; try { set_target = () => {}; } catch (e) { log_info(e.name); } set_target("n1");`);
    expect(out).toMatchObject({ target: "n1", logs: [{ level: "info", message: "TypeError" }] });
  });
});
