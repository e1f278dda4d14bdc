/**
 * Cancelling evacuate, restore and heal operations (DELETE /1.0/operations/{id}), made
 * deterministic with an executor that holds steps until the test releases them: no new step starts
 * after the cancel, the steps in flight finish, the operation ends Cancelled with every instance's
 * state, and running the action again finishes the rest.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Instance } from "../../src/domain/types.ts";
import { makeHarness, type Harness } from "../support/harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
  for (const name of ["src", "a", "b"]) await h.addMember(name);
  expect((await h.request("PATCH", "/1.0", { config: { "cluster.evacuate.max_parallel": 2 } })).status).toBe(200);
});
afterEach(async () => { await h.close(); });

const create = (name: string, target = "src") => h.createInstance({ name, start: true }, `target=${target}`);
const get = async (name: string): Promise<Instance> => (await h.request("GET", `/1.0/instances/${name}`)).body.metadata;
const act = (member: string, body: Record<string, unknown>) => h.request("POST", `/1.0/cluster/members/${member}/state`, body);
const wait = async (url: string | undefined) => (await h.request("GET", `${url}/wait?timeout=30`)).body.metadata;
const statusOf = async (name: string) => (await h.request("GET", `/1.0/cluster/members/${name}`)).body.metadata.status;
const outcomes = (op: any) => Object.fromEntries(op.metadata.instances.map((i: any) => [i.name, i.outcome]));

describe("cancelling an evacuation", () => {
  it("starts no new step, lets the steps in flight finish, ends Cancelled with every instance's state; evacuate again finishes the rest", async () => {
    for (const name of ["i1", "i2", "i3", "i4", "i5"]) await create(name);
    h.executor.hold((a) => a.kind === "stop");
    const reply = await act("src", { action: "evacuate" });
    expect(reply.status).toBe(202);
    expect(reply.body.metadata.may_cancel).toBe(true);
    // max_parallel 2: the first two instances are being stopped, held; nothing else has begun.
    const first = await h.executor.next((a) => a.name === "i1");
    const second = await h.executor.next((a) => a.name === "i2");

    const cancel = await h.request("DELETE", reply.body.operation!);
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ type: "sync", status: "Success", status_code: 200 });
    first.release();
    second.release();
    const op = await wait(reply.body.operation!);

    expect(op.status).toBe("Cancelled");
    expect(op.may_cancel).toBe(false);
    expect(outcomes(op)).toEqual({ i1: "moved", i2: "moved", i3: "cancelled", i4: "cancelled", i5: "cancelled" });
    expect(op.metadata).toMatchObject({ moved: 2, cancelled: 3, failed: 0, total: 5 });
    expect(h.executor.log.filter((a) => a.kind === "stop").map((a) => a.name)).toEqual(["i1", "i2"]); // no new step began
    for (const name of ["i1", "i2"]) expect((await get(name)).location).not.toBe("src");
    for (const name of ["i3", "i4", "i5"]) expect(await get(name)).toMatchObject({ location: "src", status: "Running" });
    expect(await statusOf("src")).toBe("Evacuated");

    h.executor.releaseAll();
    const again = await wait((await act("src", { action: "evacuate" })).body.operation);
    expect(again.status, again.err).toBe("Success");
    expect(outcomes(again)).toEqual({ i3: "moved", i4: "moved", i5: "moved" });
    expect(await h.berth.services.store.listInstances({ location: "src" })).toEqual([]);
  });

  it("cannot cancel a finished operation (400), nor one that does not exist (404)", async () => {
    await create("i1");
    const reply = await act("src", { action: "evacuate" });
    expect((await wait(reply.body.operation!)).status).toBe("Success");
    const late = await h.request("DELETE", reply.body.operation!);
    expect(late.status).toBe(400);
    expect(late.body.error).toContain("already finished (Success)");
    expect((await h.request("DELETE", "/1.0/operations/no-such-id")).status).toBe(404);
  });
});

describe("cancelling a restore", () => {
  beforeEach(async () => {
    for (const name of ["i1", "i2", "i3", "i4"]) await create(name);
    const evacuated = await wait((await act("src", { action: "evacuate" })).body.operation);
    expect(evacuated.status).toBe("Success");
  });

  it("before anything came back: the member returns to Evacuated, and restore again brings everything home", async () => {
    h.executor.hold((a) => a.kind === "stop");
    const reply = await act("src", { action: "restore" });
    expect(reply.body.metadata.may_cancel).toBe(true);
    const first = await h.executor.next((a) => a.name === "i1");
    const second = await h.executor.next((a) => a.name === "i2");
    expect((await h.request("DELETE", reply.body.operation!)).status).toBe(200);
    first.fail("the member hosting i1 is busy");
    second.fail("the member hosting i2 is busy");
    const op = await wait(reply.body.operation!);

    expect(op.status).toBe("Cancelled");
    expect(outcomes(op)).toEqual({ i1: "failed", i2: "failed", i3: "cancelled", i4: "cancelled" });
    expect(await statusOf("src")).toBe("Evacuated");
    for (const name of ["i1", "i2", "i3", "i4"]) {
      const i = await get(name);
      expect(i.location).not.toBe("src");
      expect(i).toMatchObject({ status: "Running", config: expect.objectContaining({ "volatile.evacuate.origin": "src" }) });
    }

    h.executor.releaseAll();
    const again = await wait((await act("src", { action: "restore" })).body.operation);
    expect(again.status, again.err).toBe("Success");
    expect((await h.berth.services.store.listInstances({ location: "src" })).map((i) => i.name).sort()).toEqual(["i1", "i2", "i3", "i4"]);
    expect(await statusOf("src")).toBe("Online");
  });

  it("once something came back it runs there, so the member is in service; restore again brings the rest", async () => {
    h.executor.hold((a) => a.kind === "stop");
    const reply = await act("src", { action: "restore" });
    const first = await h.executor.next((a) => a.name === "i1");
    const second = await h.executor.next((a) => a.name === "i2");
    expect((await h.request("DELETE", reply.body.operation!)).status).toBe(200);
    first.release();
    second.release();
    const op = await wait(reply.body.operation!);

    expect(op.status).toBe("Cancelled");
    expect(outcomes(op)).toEqual({ i1: "moved", i2: "moved", i3: "cancelled", i4: "cancelled" });
    expect(await get("i1")).toMatchObject({ location: "src", status: "Running" });
    expect((await get("i3")).location).not.toBe("src");
    expect(await statusOf("src")).toBe("Online");

    h.executor.releaseAll();
    const again = await wait((await act("src", { action: "restore" })).body.operation);
    expect(again.status, again.err).toBe("Success");
    expect(outcomes(again)).toEqual({ i3: "moved", i4: "moved" });
  });
});

describe("cancelling a heal", () => {
  it("ends Cancelled, the member stays Evacuated, and what was not healed stays where it was", async () => {
    expect((await h.request("PATCH", "/1.0", { config: { "cluster.offline_threshold": 20, "cluster.healing_threshold": 30, "cluster.healing.max_parallel": 2 } })).status).toBe(200);
    expect((await h.request("POST", "/1.0/storage-pools", { name: "ceph", driver: "ceph" })).status).toBe(201);
    const shared = { root: { type: "disk", path: "/", pool: "ceph" } };
    for (const name of ["w1", "w2", "w3"]) await h.createInstance({ name, start: true, devices: shared }, "target=src");
    h.executor.hold((a) => a.kind === "start");
    await h.clock.advance(34);
    for (const name of ["a", "b"]) await h.heartbeat(name);
    await h.clock.advance(1); // src silent for 35 s > 30: the heal starts
    const first = await h.executor.next((a) => a.name === "w1");
    const second = await h.executor.next((a) => a.name === "w2");
    const grouped = (await h.request("GET", "/1.0/operations?recursion=1")).body.metadata;
    const heal = (grouped.running as any[]).find((o) => o.description.includes('"src"'));
    expect(heal.may_cancel).toBe(true);
    expect((await h.request("DELETE", `/1.0/operations/${heal.id}`)).status).toBe(200);
    first.release();
    second.release();
    const op = await wait(`/1.0/operations/${heal.id}`);

    expect(op.status).toBe("Cancelled");
    expect(outcomes(op)).toEqual({ w1: "moved", w2: "moved", w3: "cancelled" });
    expect(await get("w1")).toMatchObject({ status: "Running" });
    expect((await get("w3")).location).toBe("src");
    expect(await statusOf("src")).toBe("Evacuated");
  });
});
