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
    const op = ops.start({ kind: "test-slow", description: "Slow thing", resources: { instances: ["/1.0/instances/a"] } });
    await new Promise((r) => setTimeout(r, 10));
    const running = await h.request("GET", `/1.0/operations/${op.id}`);
    expect(running.body.metadata).toMatchObject({ status: "Running", status_code: 103, metadata: { step: "half" }, description: "Slow thing" });
    expect((await h.request("GET", "/1.0/operations")).body.metadata).toEqual({ running: [`/1.0/operations/${op.id}`] });
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
    const op = ops.start({ kind: "test-cancellable", description: "Waits", mayCancel: true });
    const r = await h.request("DELETE", `/1.0/operations/${op.id}`);
    expect(r.status).toBe(200);
    const done = await h.request("GET", `/1.0/operations/${op.id}/wait?timeout=5`);
    expect(done.body.metadata).toMatchObject({ status: "Cancelled", status_code: 401 });
  });

  it("a failing operation records its error", async () => {
    h.berth.services.operations.register("test-fail", async () => { throw new Error("disk on fire"); });
    const op = h.berth.services.operations.start({ kind: "test-fail", description: "Fails" });
    const done = await h.request("GET", `/1.0/operations/${op.id}/wait?timeout=5`);
    expect(done.body.metadata).toMatchObject({ status: "Failure", err: "disk on fire" });
  });
});
