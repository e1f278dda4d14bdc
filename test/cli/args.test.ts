/** The pure pieces of the CLI: argument parsing, request bodies, SSE framing. No server, no spawn. */
import { describe, expect, it } from "vitest";
import { parseDevice, splitAssignment } from "../../src/cli/args.ts";
import { operationId, parseSseBlock, resolveConnection } from "../../src/cli/client.ts";
import { memberCreateBody } from "../../src/cli/commands/cluster.ts";
import { parseConfigAssignments } from "../../src/cli/commands/config.ts";
import { instanceCreateBody } from "../../src/cli/commands/instance.ts";
import { parseEventTypes, summarizeEvent } from "../../src/cli/commands/monitor.ts";

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
    expect(() => instanceCreateBody("i", { disk: "10GiB" })).toThrow("--disk needs --pool");
    expect(() => instanceCreateBody("i", { device: ["gpu0"] })).toThrow("--device gpu0 needs a type");
    expect(() => instanceCreateBody("i", { type: "vm" })).toThrow('--type must be container or virtual-machine, got "vm"');
    expect(() => instanceCreateBody("i", { cpu: "-1" })).toThrow('--cpu must be a number of at least 0, got "-1"');
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

  it("summarizes events on one line", () => {
    const base = { timestamp: "t" };
    expect(summarizeEvent({ ...base, type: "lifecycle", metadata: { action: "instance-created", source: "/1.0/instances/a", context: { location: "n1" } } }))
      .toBe("instance-created /1.0/instances/a location=n1");
    expect(summarizeEvent({ ...base, type: "operation", metadata: { id: "o1", description: "Evacuating", status: "Running", metadata: { evacuation_progress: 'Stopping "a"' } } }))
      .toBe('Evacuating Running (o1) - Stopping "a"');
    expect(summarizeEvent({ ...base, type: "logging", metadata: { level: "info", message: "placing a", instance: "a" } })).toBe("info placing a instance=a");
  });
});
