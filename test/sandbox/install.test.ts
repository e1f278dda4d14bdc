/** Installing, validating, replacing and calling the installed scriptlet; limits, logs, replica. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ScriptletError, ScriptletSandbox } from "../../src/sandbox/index.ts";
import type { ScriptletLogEvent } from "../../src/sandbox/index.ts";
import { member, request, snapshot } from "./fixtures.ts";
import { ALL, scriptlet, smallCluster } from "./support.ts";

const logs: ScriptletLogEvent[] = [];
let sb: ScriptletSandbox;
beforeAll(async () => {
  // Room for a loaded machine: only the tests about the limits set a tight one.
  sb = new ScriptletSandbox({ timeoutMs: 5000, memoryMb: 32, onLog: (e) => logs.push(e) });
  sb.reset(smallCluster());
  await sb.ready();
});
afterAll(async () => {
  const { workers } = await sb.stats();
  expect(workers.map((w) => w?.dispose_failures)).toEqual(workers.map(() => 0)); // no QuickJS handle leaked
  await sb.close();
});
beforeEach(async () => {
  logs.length = 0;
  sb.setLimits({ timeoutMs: 5000, memoryMb: 32 });
  await sb.install(scriptlet(`set_target("n2");`));
});

async function installError(source: string): Promise<ScriptletError> {
  const error = await sb.install(source).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(ScriptletError);
  return error as ScriptletError;
}

describe("install", () => {
  it("accepts instance_placement as a const arrow function too", async () => {
    await sb.install(`const instance_placement = (request, candidate_members) => set_target("n3");`);
    expect((await sb.place(request("c1"), ALL)).target).toBe("n3");
  });
  it("uses the installed scriptlet for placements", async () => {
    expect(sb.installed()).toBe(true);
    expect(await sb.place(request("c1"), ALL)).toMatchObject({ called: true, target: "n2", rejected: null });
  });
  it("reports a syntax error with line:column and keeps the old scriptlet", async () => {
    const e = await installError(`function instance_placement(request, candidate_members) {\n  let x = ;\n}`);
    expect(e.message).toBe("Invalid scriptlet: SyntaxError: unexpected token in expression: ';' (line 2:11)");
    expect([e.line, e.column, e.status]).toEqual([2, 11, 400]);
    expect((await sb.place(request("c1"), ALL)).target).toBe("n2");
  });
  it("reports a top-level runtime error with line:column", async () => {
    const e = await installError(`const limits = {};\nconst max = limits.cpu.max;\n${scriptlet("")}`);
    expect(e.message).toMatch(/^Invalid scriptlet: TypeError: cannot read property 'max' of undefined \(line 2:\d+\)$/);
    expect(e.line).toBe(2);
  });
  it.each([
    ["no instance_placement", "function place(a, b) {}", "instance_placement is not defined"],
    ["instance_placement not a function", "var instance_placement = 3;", "instance_placement is a number"],
    ["one parameter", "function instance_placement(request) {}", "it takes 1"],
    ["three parameters", "function instance_placement(a, b, c) {}", "it takes 3"],
    ["a module", "import fs from 'fs';\nfunction instance_placement(a, b) {}", "SyntaxError"],
  ])("rejects %s", async (_what, source, message) => {
    expect((await installError(source)).message).toContain(message);
    expect((await sb.place(request("c1"), ALL)).target).toBe("n2");
  });
  it("rejects top-level code that runs past the time limit, naming the limit", async () => {
    sb.setLimits({ timeoutMs: 100, memoryMb: 32 });
    const e = await installError(`while (true) {}\n${scriptlet("")}`);
    expect(e.message).toMatch(/time limit of 100 ms/);
    sb.setLimits({ timeoutMs: 5000, memoryMb: 32 });
    expect((await sb.place(request("c1"), ALL)).target).toBe("n2");
  });
  it("rejects top-level code that runs out of memory, naming the limit", async () => {
    const e = await installError(`const hog = []; for (;;) hog.push(new ArrayBuffer(4 << 20));\n${scriptlet("")}`);
    expect(e.message).toMatch(/memory limit of 32 MiB/);
  });
  it("uninstalls with an empty source: placements are the built-in choice", async () => {
    await sb.install("");
    expect(sb.installed()).toBe(false);
    expect(await sb.place(request("c1"), ALL)).toEqual({ called: false, target: null, rejected: null, logs: [], duration_ms: 0, error: null });
  });
  it("test() runs a given source without installing it, and rejects an invalid one", async () => {
    expect((await sb.test(scriptlet(`set_target("n3");`), request("c1"), ALL)).target).toBe("n3");
    expect((await sb.place(request("c1"), ALL)).target).toBe("n2");
    await expect(sb.test("function (", request("c1"), ALL)).rejects.toThrow(/^Invalid scriptlet: SyntaxError/);
  });
});

describe("isolation between calls", () => {
  it("freezes globals after the top-level code: a call cannot leave state behind in them", async () => {
    await sb.install(`var seen = { count: 0 };\n${scriptlet(`seen.count++; log_info(seen.count);`)}`);
    const counts = [];
    for (let i = 0; i < 3; i++) counts.push((await sb.place(request(`c${i}`), ALL)).logs[0]?.message);
    expect(counts).toEqual(["0", "0", "0"]);
  });
  it("lets top-level code extend prototypes (polyfills), then freezes them", async () => {
    await sb.install(`Array.prototype.last = function () { return this[this.length - 1]; };\n${scriptlet(`"use strict"; Array.prototype.last = null; `)}`);
    expect((await sb.place(request("c1"), ALL)).rejected).toMatch(/^TypeError/);
    await sb.install(`Array.prototype.last = function () { return this[this.length - 1]; };\n${scriptlet(`set_target(candidate_members.last().server_name);`)}`);
    expect((await sb.place(request("c1"), ALL)).target).toBe("n3");
  });
  it("a call that tampered and failed does not affect the next call", async () => {
    await sb.install(scriptlet(`if (request.name === "bad") { Object.prototype.hacked = true; JSON.stringify = null; throw new Error("x"); }
      log_info(String(({}).hacked), " ", typeof JSON.stringify); set_target("n1");`));
    expect((await sb.place(request("bad"), ALL)).rejected).toMatch(/^Error: x \(line 2:\d+\)$/);
    expect((await sb.place(request("good"), ALL)).logs[0].message).toBe("undefined function");
  });
});

describe("service integration", () => {
  it("sends every log line to onLog with instance, project and reason", async () => {
    await sb.install(scriptlet(`log_info("hello ", request.name); log_warn("careful");`));
    await sb.place(request("c7", { project: "prod", reason: "evacuation" }), ALL);
    expect(logs).toEqual([
      { level: "info", message: "hello c7", instance: "c7", project: "prod", reason: "evacuation" },
      { level: "warn", message: "careful", instance: "c7", project: "prod", reason: "evacuation" },
    ]);
  });
  it("applies new limits to later calls", async () => {
    await sb.install(scriptlet(`const end = Date.now() + 60; while (Date.now() < end) {} set_target("n1");`));
    expect((await sb.place(request("c1"), ALL)).target).toBe("n1");
    sb.setLimits({ timeoutMs: 20, memoryMb: 32 });
    expect((await sb.place(request("c1"), ALL)).rejected).toMatch(/time limit of 20 ms/);
  });
  it("applies a new memory limit (each session's heap is sized by it)", async () => {
    await sb.install(scriptlet(`const keep = new ArrayBuffer(20 * 1024 * 1024); set_target("n1");`));
    expect((await sb.place(request("c1"), ALL)).target).toBe("n1");
    sb.setLimits({ timeoutMs: 5000, memoryMb: 8 });
    expect((await sb.place(request("c1"), ALL)).rejected).toMatch(/^Scriptlet exceeded its memory limit of 8 MiB/);
  });
  it("answers concurrent placements correctly", async () => {
    await sb.install(scriptlet(`set_target(candidate_members[request.name.length % candidate_members.length].server_name);`));
    const names = Array.from({ length: 60 }, (_, i) => "x".repeat(i + 1));
    const outs = await Promise.all(names.map((n) => sb.place(request(n), ALL)));
    expect(outs.map((o) => o.target)).toEqual(names.map((n) => ALL[n.length % 3]));
  });
  it("reset() replaces the whole replica", async () => {
    sb.reset(snapshot({ members: [member("solo").domain("rackX").build()] }));
    await sb.install(scriptlet(`log_info(get_cluster_members().map((m) => m.server_name).join(","), " ", get_instances_count());`));
    expect((await sb.place(request("c1"), ["solo"])).logs[0].message).toBe("solo 0");
    sb.reset(smallCluster());
  });
  it("leaves out a candidate the replica does not have (a member removed after the ranking was made)", async () => {
    await sb.install(scriptlet(`log_info(candidate_members.map((m) => m.server_name).join(","));`));
    const out = await sb.place(request("c1"), ["n1", "ghost", "n2"]);
    expect(out.error).toBeNull();
    expect(out.logs[0].message).toBe("n1,n2");
  });
});
