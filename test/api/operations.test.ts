import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeHarness, type Harness } from "../support/harness.ts";

let h: Harness;
beforeEach(async () => { h = await makeHarness(); });
afterEach(async () => { await h.close(); });

describe("/1.0/operations", () => {
  it("lists by status, shows, waits, and refuses to cancel what cannot be cancelled", async () => {
    const ops = h.berth.services.operations;
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    ops.register("test-slow", async (ctx) => {
      ctx.progress({ step: "half" });
      await gate;
      return { answer: 42 };
    });
    const op = await ops.start({ kind: "test-slow", description: "Slow thing", resources: { instances: ["/1.0/instances/a"] } });
    await new Promise((r) => setTimeout(r, 10));
    const running = await h.request("GET", `/1.0/operations/${op.id}`);
    expect(running.body.metadata).toMatchObject({ status: "Running", status_code: 103, metadata: { step: "half" }, description: "Slow thing" });
    expect((await h.request("GET", "/1.0/operations")).body.metadata).toEqual({ running: [`/1.0/operations/${op.id}`] });
    // With ?recursion=1 LXD groups the operations themselves by status (lxc operation list reads this).
    const grouped = (await h.request("GET", "/1.0/operations?recursion=1")).body.metadata;
    expect(Object.keys(grouped)).toEqual(["running"]);
    expect(grouped.running).toEqual([expect.objectContaining({ id: op.id, class: "task", status: "Running", resources: { instances: ["/1.0/instances/a"] } })]);
    const timedOut = await h.request("GET", `/1.0/operations/${op.id}/wait?timeout=1`);
    expect(timedOut.body.metadata.status).toBe("Running");
    expect((await h.request("DELETE", `/1.0/operations/${op.id}`)).status).toBe(403);
    const waiting = h.request("GET", `/1.0/operations/${op.id}/wait?timeout=10`);
    release();
    const done = await waiting;
    expect(done.body.metadata).toMatchObject({ status: "Success", metadata: { step: "half", answer: 42 }, err: "" });
    expect((await h.request("DELETE", `/1.0/operations/${op.id}`)).status).toBe(400);
    expect((await h.request("GET", "/1.0/operations/nope")).status).toBe(404);
    expect((await h.request("GET", `/1.0/operations/${op.id}/wait?timeout=abc`)).status).toBe(400);
  });

  it("cancels a cancellable operation", async () => {
    const ops = h.berth.services.operations;
    ops.register("test-cancellable", (ctx) => new Promise((resolve) => ctx.signal.addEventListener("abort", () => resolve())));
    const op = await ops.start({ kind: "test-cancellable", description: "Waits", mayCancel: true });
    const r = await h.request("DELETE", `/1.0/operations/${op.id}`);
    expect(r.status).toBe(200);
    const done = await h.request("GET", `/1.0/operations/${op.id}/wait?timeout=5`);
    expect(done.body.metadata).toMatchObject({ status: "Cancelled", status_code: 401 });
  });

  it("a failing operation records its error", async () => {
    h.berth.services.operations.register("test-fail", async () => { throw new Error("disk on fire"); });
    const op = await h.berth.services.operations.start({ kind: "test-fail", description: "Fails" });
    const done = await h.request("GET", `/1.0/operations/${op.id}/wait?timeout=5`);
    expect(done.body.metadata).toMatchObject({ status: "Failure", err: "disk on fire" });
  });
});

describe("retention", () => {
  it("forgets finished operations older than operations.retention, keeps newer and running ones", async () => {
    await h.addMember("n1");
    await h.request("POST", "/1.0/instances?target=n1", { name: "a" });
    expect((await h.request("PATCH", "/1.0", { config: { "operations.retention": 3600 } })).status).toBe(200);
    const old = await h.request("PUT", "/1.0/instances/a/state", { action: "start" });
    await h.request("GET", `${old.body.operation}/wait?timeout=10`);
    await h.clock.advance(1800);
    const recent = await h.request("PUT", "/1.0/instances/a/state", { action: "stop" });
    await h.request("GET", `${recent.body.operation}/wait?timeout=10`);
    await h.clock.advance(1801); // the first is now older than an hour, the second is not
    const next = await h.request("PUT", "/1.0/instances/a/state", { action: "start" }); // starting one prunes
    await h.request("GET", `${next.body.operation}/wait?timeout=10`);
    expect((await h.request("GET", old.body.operation!)).status).toBe(404);
    expect((await h.request("GET", recent.body.operation!)).status).toBe(200);
    expect((await h.request("GET", next.body.operation!)).status).toBe(200);
  });
});

describe("listeners of committed changes", () => {
  it("a failing listener never turns the write that was committed into an error", async () => {
    h.berth.changes.subscribe(() => { throw new Error("listener broke"); });
    h.berth.services.bus.subscribe(() => { throw new Error("subscriber broke"); });
    await h.addMember("n1");
    const created = await h.run("POST", "/1.0/instances?target=n1", { name: "a", start: true });
    expect(created.status).toBe(202);
    expect(created.op?.status).toBe("Success");
    expect((await h.request("GET", "/1.0/instances/a")).body.metadata).toMatchObject({ location: "n1", status: "Running" });
  });
});
