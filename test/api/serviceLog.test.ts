/**
 * The service log tells operators what failed (issue 13, point 12): a warning for a refused
 * placement, a scriptlet that breaks, a failed or cancelled operation, a member going offline, and
 * one line when the service stops. The log is captured through the logger createBerth is given.
 */
import { Writable } from "node:stream";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeHarness, type Harness } from "../support/harness.ts";

interface Line { level: number; msg: string; [key: string]: unknown }
const WARN = 40;

let h: Harness;
let lines: Line[];
let closed = false;
beforeEach(async () => {
  lines = [];
  closed = false;
  const sink = new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(JSON.parse(chunk.toString()) as Line); done(); } });
  h = await makeHarness({ logger: pino({ level: "info" }, sink), sandboxPoolSize: 1 });
});
afterEach(async () => { if (!closed) await h.close(); });

const warnings = () => lines.filter((l) => l.level === WARN);

describe("the service log", () => {
  it("warns when a placement is refused, naming the instance, the reason and why", async () => {
    await h.addMember("n1");
    const refused = await h.request("POST", "/1.0/instances", { name: "huge", config: { "limits.memory": "100GiB" } });
    expect(refused.status).toBe(409);
    expect(warnings()).toContainEqual(expect.objectContaining({
      msg: "placement refused", instance: "huge", project: "default", reason: "new", error: expect.stringContaining("n1"),
    }));
  });

  it("warns when the scriptlet throws or times out in a placement", async () => {
    await h.addMember("n1");
    const source = `function instance_placement(request, candidates) {
      if (request.name === "loop") { while (true) {} }
      throw new Error("inventory service down");
    }`;
    // Forced: its trial placement throws too (a scriptlet that fails every placement is refused otherwise).
    expect((await h.request("PATCH", "/1.0?force=true", { config: { "instances.placement.scriptlet": source, "scriptlet.timeout_ms": 300 } })).status).toBe(200);
    expect((await h.request("POST", "/1.0/instances", { name: "web1" })).status).toBe(400);
    expect((await h.request("POST", "/1.0/instances", { name: "loop" })).status).toBe(400);
    const failed = warnings().filter((l) => l.msg === "the placement scriptlet failed");
    expect(failed).toContainEqual(expect.objectContaining({ instance: "web1", reason: "new", error: expect.stringContaining("inventory service down") }));
    expect(failed).toContainEqual(expect.objectContaining({ instance: "loop", error: expect.stringMatching(/time|limit/i) }));
  });

  it("warns when an operation fails or is cancelled", async () => {
    for (const name of ["src", "a"]) await h.addMember(name);
    await h.createInstance({ name: "w1", start: true }, "target=src");
    await h.createInstance({ name: "w2", start: true }, "target=src");
    h.executor.failing((a) => a.kind === "move" && a.name === "w1", () => "disk full on a");
    const failed = await h.run("POST", "/1.0/cluster/members/src/state", { action: "evacuate" });
    expect(failed.op?.status).toBe("Failure");
    h.executor.failing(null);
    expect(warnings()).toContainEqual(expect.objectContaining({
      msg: "operation failed", operation: failed.op!.id, description: 'Evacuating cluster member "src"', status: "Failure",
      error: expect.stringContaining("disk full on a"),
    }));

    h.executor.hold((a) => a.kind === "stop");
    const restore = await h.request("POST", "/1.0/cluster/members/src/state", { action: "restore" });
    const held = await h.executor.next();
    expect((await h.request("DELETE", restore.body.operation!)).status).toBe(200);
    held.release();
    h.executor.releaseAll();
    const ended = (await h.request("GET", `${restore.body.operation}/wait?timeout=30`)).body.metadata;
    expect(ended.status).toBe("Cancelled");
    expect(warnings()).toContainEqual(expect.objectContaining({ msg: "operation cancelled", operation: ended.id, status: "Cancelled" }));
  });

  it("warns when a member goes offline, says when it is back, and writes one line when the service stops", async () => {
    await h.addMember("n1");
    await h.addMember("n2");
    await h.clock.advance(15);
    await h.heartbeat("n2");
    await h.clock.advance(10); // n1 silent for 25 s > 20
    expect(warnings()).toContainEqual(expect.objectContaining({ msg: "cluster member went offline", member: "n1", message: expect.stringContaining("No heartbeat") }));
    expect(warnings().some((l) => l.member === "n2")).toBe(false);
    await h.heartbeat("n1");
    expect(lines).toContainEqual(expect.objectContaining({ msg: "cluster member is back online", member: "n1" }));

    const before = lines.length;
    closed = true;
    await h.close();
    expect(lines.slice(before)).toEqual([expect.objectContaining({ level: 30, msg: "berth stopped" })]);
  });
});
