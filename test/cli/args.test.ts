/** The pure pieces of the CLI: argument parsing, request bodies, SSE framing. No server, no spawn. */
import { describe, expect, it } from "vitest";
import { parseDevice, splitAssignment } from "../../src/cli/args.ts";
import { operationId, parseSseBlock, resolveConnection } from "../../src/cli/client.ts";
import { memberCreateBody } from "../../src/cli/commands/cluster.ts";
import { evacuationSummary, restoreSummary } from "../../src/cli/commands/clusterState.ts";
import { parseConfigAssignments } from "../../src/cli/commands/config.ts";
import { instanceCreateBody } from "../../src/cli/commands/instance.ts";
import { parseEventTypes, summarizeEvent } from "../../src/cli/commands/monitor.ts";
import { placementQueryBody, scriptletLines } from "../../src/cli/commands/placement.ts";
import { buildProgram, commandName } from "../../src/cli/index.ts";
import { evacuationStep, stepLine } from "../../src/cli/progress.ts";

describe("CLI argument parsing", () => {
  it("splits KEY=VALUE at the first = and parses device specs", () => {
    expect(splitAssignment("user.expr=a=b")).toEqual(["user.expr", "a=b"]);
    expect(splitAssignment("user.empty=")).toEqual(["user.empty", ""]);
    expect(() => splitAssignment("=x")).toThrow('Expected KEY=VALUE, got "=x"');
    expect(parseDevice("root,type=disk,pool=p,path=/,size=10GiB")).toEqual(["root", { type: "disk", pool: "p", path: "/", size: "10GiB" }]);
    expect(() => parseDevice("type=disk")).toThrow("--device must be NAME,key=value");
  });

  it("turns `cluster add` flags into declared resources in bytes", () => {
    expect(memberCreateBody("n1", { cpu: "4", memory: "512MiB", disk: "1GiB", gpus: "1", group: "a, b", arch: "aarch64" })).toEqual({
      server_name: "n1",
      architecture: "aarch64",
      groups: ["a", "b"],
      resources: { cpu: { total: 4 }, memory: { total: 512 * 1024 ** 2 }, storage: { pools: { default: { total: 1024 ** 3 } } }, gpu: { total: 1 } },
    });
    expect(() => memberCreateBody("n1", { gpus: "1.5" })).toThrow('--gpus must be a whole number of at least 0, got "1.5"');
    expect(() => memberCreateBody("n1", { pool: "default" })).toThrow("give --disk too");
  });

  it("turns `instance create` flags into config and a root disk", () => {
    expect(instanceCreateBody("i", { cpu: "1.5", memory: "2GiB", pool: "p", config: ["user.a=1"], start: true })).toEqual({
      name: "i",
      config: { "user.a": "1", "limits.cpu": "1.5", "limits.memory": "2GiB" },
      devices: { root: { type: "disk", path: "/", pool: "p" } },
      start: true,
    });
    expect(instanceCreateBody("i", { image: "alpine" }).source).toEqual({ type: "image", alias: "alpine" });
    expect(instanceCreateBody("i", { image: "ee2b1a40e6b8" }).source).toEqual({ type: "image", fingerprint: "ee2b1a40e6b8" });
    expect(() => instanceCreateBody("i", { disk: "10GiB" })).toThrow("--disk needs --pool");
    expect(() => instanceCreateBody("i", { device: ["gpu0"] })).toThrow("--device gpu0 needs a type");
    expect(() => instanceCreateBody("i", { type: "vm" })).toThrow('--type must be container or virtual-machine, got "vm"');
    expect(() => instanceCreateBody("i", { cpu: "-1" })).toThrow('--cpu must be a number of at least 0, got "-1"');
  });

  it("turns `placement query` flags into the same config and devices as `instance create`", () => {
    const flags = { cpu: "2", memory: "4GiB", disk: "10GiB", pool: "p", gpus: "1", config: ["user.a=1"] };
    const { name: _name, ...created } = instanceCreateBody("q", flags);
    expect(placementQueryBody({ ...flags, name: "q", project: "p1", arch: "aarch64", target: "@gpu", reason: "evacuation", exclude: "n1, n2" })).toEqual({
      ...created,
      name: "q", project: "p1", architecture: "aarch64", target: "@gpu", reason: "evacuation", exclude: ["n1", "n2"],
    });
    expect(created).toEqual({
      config: { "user.a": "1", "limits.cpu": "2", "limits.memory": "4GiB", "limits.gpu": "1" },
      devices: { root: { type: "disk", path: "/", pool: "p", size: "10GiB" } },
    });
    expect(() => placementQueryBody({ gpus: "0.5" })).toThrow('--gpus must be a whole number of at least 0, got "0.5"');
    expect(() => placementQueryBody({ disk: "1GiB" })).toThrow("--disk needs --pool");
  });

  it("reads config assignments in both forms, taking - from stdin", async () => {
    const stdin = async (key: string) => `<stdin for ${key}>`;
    expect(await parseConfigAssignments(["a=1", "b=x=y"], stdin)).toEqual({ a: "1", b: "x=y" });
    expect(await parseConfigAssignments(["scheduler.strategy", "pack"], stdin)).toEqual({ "scheduler.strategy": "pack" });
    expect(await parseConfigAssignments(["s=-"], stdin)).toEqual({ s: "<stdin for s>" });
    await expect(parseConfigAssignments(["a", "b", "c"], stdin)).rejects.toThrow('Expected KEY=VALUE, got "a"');
    await expect(parseConfigAssignments(["a=-", "b=-"], stdin)).rejects.toThrow("Only one key can read its value from stdin");
  });
});

describe("CLI client pieces", () => {
  it("resolves the connection: flags, then environment, then defaults", () => {
    expect(resolveConnection({ url: "http://x:1/", token: "t" }, { BERTH_URL: "http://y", BERTH_TOKEN: "u" })).toMatchObject({ url: "http://x:1", token: "t" });
    expect(resolveConnection({}, { BERTH_URL: "http://y", BERTH_TOKEN: "u" })).toMatchObject({ url: "http://y", token: "u" });
    const fallback = resolveConnection({}, { BERTH_DATA: "/nonexistent-berth" });
    expect(fallback.url).toBe("http://127.0.0.1:8443");
    expect(fallback.token).toBeUndefined();
    expect(fallback.tokenSource).toContain("/nonexistent-berth/admin.token");
    expect(fallback.fingerprint).toBeNull();
    const fp = "ab".repeat(32);
    expect(resolveConnection({ fingerprint: fp.toUpperCase() }, { BERTH_FINGERPRINT: "cd".repeat(32) })).toMatchObject({ fingerprint: fp, fingerprintSource: "--fingerprint" });
    expect(resolveConnection({}, { BERTH_FINGERPRINT: fp })).toMatchObject({ fingerprint: fp, fingerprintSource: "BERTH_FINGERPRINT" });
  });

  it("parses SSE blocks and operation URLs", () => {
    expect(parseSseBlock('event: lifecycle\ndata: {"a":1}')).toEqual({ name: "lifecycle", data: '{"a":1}' });
    expect(parseSseBlock(": keepalive")).toBeNull();
    expect(parseSseBlock("data: a\ndata: b")).toEqual({ name: "message", data: "a\nb" });
    expect(operationId("/1.0/operations/abc-123")).toBe("abc-123");
  });

  it("checks monitor event types before connecting", () => {
    expect(parseEventTypes(undefined)).toBeUndefined();
    expect(parseEventTypes("lifecycle, logging")).toEqual(["lifecycle", "logging"]);
    expect(() => parseEventTypes("lifecycle,gossip")).toThrow('--type: unknown event type "gossip"');
  });

  it("reads evacuation progress steps, sums up outcomes and describes what the scriptlet did", () => {
    expect(evacuationStep({ evacuation_progress: 'Stopping "a"', done: 1, total: 3 })).toEqual({ message: 'Stopping "a"', done: 1, total: 3 });
    expect(evacuationStep({ progress: "other" })).toBeNull();
    expect(stepLine({ message: "m", done: 2, total: 3 })).toBe("[2/3] m");
    expect(stepLine({ message: "m" })).toBe("m");
    const entry = { project: "default", status: "Running", action: "migrate" as const, target: "n2", why: "" };
    expect(evacuationSummary("n1", [
      { ...entry, name: "a", outcome: "moved" }, { ...entry, name: "b", outcome: "stopped" }, { ...entry, name: "c", outcome: "failed", error: "x" },
    ])).toBe("Evacuated n1: 1 moved, 1 stopped, 1 failed");
    expect(restoreSummary("n1", [{ project: "default", name: "a", action: "move-back", from: "n2", outcome: "moved" }])).toBe("Restored n1: 0 started, 1 moved back, 0 failed");
    expect(scriptletLines({ called: true, target: "n2", logs: [{ level: "info", message: "placing q" }], duration_ms: 1.234, error: null }))
      .toEqual(["Scriptlet: chose n2 in 1.2 ms", "  info: placing q"]);
    expect(scriptletLines({ called: true, target: null, logs: [], duration_ms: 3, error: "ReferenceError: x is not defined" }))
      .toEqual(["Scriptlet: failed after 3 ms: ReferenceError: x is not defined"]);
    expect(scriptletLines({ called: true, target: null, logs: [], duration_ms: 0.5, error: null })).toEqual(["Scriptlet: ran in 0.5 ms, kept the built-in choice"]);
  });

  it("summarizes events on one line", () => {
    const base = { timestamp: "t" };
    expect(summarizeEvent({ ...base, type: "lifecycle", metadata: { action: "instance-created", source: "/1.0/instances/a", context: { location: "n1" } } }))
      .toBe("instance-created /1.0/instances/a location=n1");
    expect(summarizeEvent({ ...base, type: "operation", metadata: { id: "o1", description: "Evacuating", status: "Running", metadata: { evacuation_progress: 'Stopping "a"' } } }))
      .toBe('Evacuating Running (o1) - Stopping "a"');
    expect(summarizeEvent({ ...base, type: "logging", metadata: { level: "info", message: "placing a", instance: "a" } })).toBe("info placing a instance=a");
  });
});

describe("the program a call builds", () => {
  it("finds the command a call names, past the global options and their values", async () => {
    expect(commandName(["cluster", "list"])).toBe("cluster");
    expect(commandName(["--format", "json", "--url=http://x", "instance", "list"])).toBe("instance");
    expect(commandName(["--token", "cluster", "storage", "list"])).toBe("storage"); // "cluster" is the token
    expect(commandName(["--fingerprint", "ab:cd", "cluster", "list"])).toBe("cluster");
    expect(commandName(["--help"])).toBeUndefined();
    expect(commandName(["--", "cluster"])).toBeUndefined();
    // Every global option that takes a value is skipped with its value (a new one must be added to VALUE_OPTIONS).
    const program = await buildProgram([]);
    for (const option of program.options.filter((o) => o.required || o.optional)) {
      expect(commandName([option.long!, "project", "token", "list"]), option.long).toBe("token");
    }
  });

  it("registers only the named group, and every group in help order otherwise", async () => {
    const names = async (args: string[]) => (await buildProgram(args)).commands.map((c) => c.name());
    expect(await names(["cluster", "list"])).toEqual(["serve", "cluster"]);
    expect(await names(["serve"])).toEqual(["serve"]);
    const all = ["serve", "cluster", "storage", "project", "instance", "placement", "scriptlet", "config", "operation", "monitor", "token", "trust", "agent"];
    expect(await names([])).toEqual(all);
    expect(await names(["--help"])).toEqual(all);
    expect(await names(["clustr", "list"])).toEqual(all); // a typo: commander suggests from every command
  });
});
