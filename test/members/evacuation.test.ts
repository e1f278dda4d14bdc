import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Instance } from "../../src/domain/types.ts";
import { makeHarness, type Harness } from "../support/harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
  for (const name of ["src", "a", "b", "c"]) await h.addMember(name, { resources: { cpu: { total: 16 }, memory: { total: 64 * 1024 ** 3 }, gpu: { total: name === "src" ? 2 : 0 } } });
  await h.request("POST", "/1.0/storage-pools", { name: "local", driver: "zfs" });
  await h.request("POST", "/1.0/storage-pools", { name: "ceph", driver: "ceph" });
});
afterEach(async () => { await h.close(); });

const create = (name: string, body: Record<string, unknown> = {}, start = true) => h.createInstance({ name, start, ...body }, "target=src");
const get = async (name: string): Promise<Instance> => (await h.request("GET", `/1.0/instances/${name}`)).body.metadata;
const act = (member: string, body: Record<string, unknown>) => h.request("POST", `/1.0/cluster/members/${member}/state`, body);
const finish = async (reply: { body: { operation?: string } }) => (await h.request("GET", `${reply.body.operation}/wait?timeout=10`)).body.metadata;

describe("evacuate", () => {
  it("starts again an instance a crashed run had moved but not yet started (the plan alone would miss it)", async () => {
    await create("web1");
    await create("stay");
    // What a kill -9 between "move" and "start" leaves: on its target, stopped, marked as having run.
    const instances = h.berth.services.records;
    await instances.setVolatile("default", "web1", { "volatile.evacuate.origin": "src", "volatile.last_state.power": "RUNNING" });
    await instances.recordStatus("default", "web1", "Stopped");
    await instances.recordLocation("default", "web1", "a");
    const op = await finish(await act("src", { action: "evacuate" }));
    expect(op.status).toBe("Success");
    expect(op.metadata).toMatchObject({ done: 2, total: 2, failed: 0 });
    expect(await get("web1")).toMatchObject({ location: "a", status: "Running" });
    expect((await get("web1")).config["volatile.last_state.power"]).toBeUndefined();
    expect((await get("stay")).location).not.toBe("src");
  });
  it("migrates what can move, stops what cannot, records origins, ends EVACUATED with an event", async () => {
    await create("web1");
    await create("web2");
    await create("idle", {}, false);
    await create("gpu", { devices: { gpu0: { type: "gpu" } } });
    const events: any[] = [];
    h.berth.services.bus.subscribe((e) => events.push(e));
    const reply = await act("src", { action: "evacuate" });
    expect(reply.status).toBe(202);
    expect((await h.request("GET", "/1.0/cluster/members/src")).body.metadata.status).toMatch(/Evacuat/);
    const op = await finish(reply);
    expect(op.status).toBe("Success");
    expect(op.metadata).toMatchObject({ done: 4, total: 4, failed: 0 });

    for (const name of ["web1", "web2"]) {
      const i = await get(name);
      expect(i.location).not.toBe("src");
      expect(i.status).toBe("Running");
      expect(i.config["volatile.evacuate.origin"]).toBe("src");
      expect(i.config["volatile.last_state.power"]).toBeUndefined();
    }
    expect((await get("idle")).status).toBe("Stopped");
    expect((await get("idle")).location).not.toBe("src");
    expect(await get("gpu")).toMatchObject({ location: "src", status: "Stopped", config: { "volatile.last_state.power": "RUNNING" } });
    // Spread, never piled: three movers over three equal members.
    const moved = await Promise.all(["web1", "web2", "idle"].map(async (n) => (await get(n)).location));
    expect(new Set(moved).size).toBe(3);

    const member = (await h.request("GET", "/1.0/cluster/members/src")).body.metadata;
    expect(member).toMatchObject({ status: "Evacuated", message: "Unavailable due to maintenance" });
    expect(events.some((e) => e.metadata.action === "cluster-member-evacuated")).toBe(true);
    const progress = events.filter((e) => e.type === "operation").map((e) => e.metadata.metadata?.evacuation_progress).filter(Boolean);
    expect(progress).toContain('Stopping "web1" in project "default"');
    expect(progress.some((p: string) => /^Migrating "web1" in project "default" to "[abc]"$/.test(p))).toBe(true);
    expect(progress).toContain('Starting "web1" in project "default"');
    // No new placements on an evacuated member.
    expect((await h.request("POST", "/1.0/instances?target=src", { name: "late" })).status).toBe(409);
  });

  it.each([
    ["gpu", { gpu0: { type: "gpu" } }, "stop"],
    ["usb", { u: { type: "usb" } }, "stop"],
    ["unix-char", { c: { type: "unix-char", path: "/dev/x" } }, "stop"],
    ["unix-block", { b: { type: "unix-block", path: "/dev/sdb" } }, "stop"],
    ["pci", { p: { type: "pci", address: "0000:01:00.0" } }, "stop"],
    ["disk with a host source", { data: { type: "disk", source: "/srv/data", path: "/data" } }, "stop"],
    ["extra disk on a local pool", { data: { type: "disk", pool: "local", path: "/data" } }, "stop"],
    ["root disk on a local pool", { root: { type: "disk", pool: "local", path: "/" } }, "migrate"],
    ["extra disk on a remote pool", { data: { type: "disk", pool: "ceph", path: "/data" } }, "migrate"],
    ["a nic", { eth0: { type: "nic", network: "br0" } }, "migrate"],
  ])("auto: %s → %s (dry run plan)", async (_label, devices, action) => {
    await create("x", { devices });
    const plan = await act("src", { action: "evacuate", dry_run: true });
    expect(plan.status).toBe(200);
    expect(plan.body.metadata.instances[0]).toMatchObject({ name: "x", action });
    if (action === "stop") expect(plan.body.metadata.instances[0].why).toContain("default mode auto");
  });

  // Issue 13, point 2: a disk whose `source` is on a remote pool is a custom volume the migration
  // takes along (LXD's `lxc storage volume attach`), not a host path.
  it.each(["ceph", "cephfs", "powerflex", "pure", "nfs"])("auto: a custom volume on a remote %s pool migrates; on a local pool it pins", async (driver) => {
    if (driver !== "ceph") expect((await h.request("POST", "/1.0/storage-pools", { name: "shared", driver })).status).toBe(201);
    const pool = driver === "ceph" ? "ceph" : "shared";
    await create("vol", { devices: { data: { type: "disk", pool, source: "data-vol", path: "/data" } } });
    await create("localvol", { devices: { data: { type: "disk", pool: "local", source: "data-vol", path: "/data" } } });
    await create("hostpath", { devices: { data: { type: "disk", source: "/srv/data", path: "/data" } } });
    const plan = (await act("src", { action: "evacuate", dry_run: true })).body.metadata.instances;
    const by = Object.fromEntries(plan.map((p: any) => [p.name, p]));
    expect(by.vol).toMatchObject({ action: "migrate", target: expect.stringMatching(/^[abc]$/) });
    expect(by.localvol).toMatchObject({ action: "stop" });
    expect(by.localvol.why).toContain(`disk "data" is on local pool "local" (zfs)`);
    expect(by.hostpath).toMatchObject({ action: "stop" });
    expect(by.hostpath.why).toContain("host path /srv/data");
    const op = await finish(await act("src", { action: "evacuate" }));
    expect(op.status, op.err).toBe("Success");
    expect(await get("vol")).toMatchObject({ location: by.vol.target, status: "Running" });
    expect(await get("localvol")).toMatchObject({ location: "src", status: "Stopped" });
  });

  it("follows each instance's cluster.evacuate, and a request mode overrides it", async () => {
    await create("m", { config: { "cluster.evacuate": "migrate" } });
    await create("lm", { config: { "cluster.evacuate": "live-migrate" } });
    await create("s", { config: { "cluster.evacuate": "stop" } });
    await create("fs", { config: { "cluster.evacuate": "force-stop" } });
    const plan = (await act("src", { action: "evacuate", dry_run: true })).body.metadata.instances;
    expect(Object.fromEntries(plan.map((p: any) => [p.name, p.action]))).toEqual({ fs: "force-stop", lm: "migrate", m: "migrate", s: "stop" });
    expect(plan.find((p: any) => p.name === "lm").why).toContain("cannot live-migrate");
    const forced = (await act("src", { action: "evacuate", mode: "stop", dry_run: true })).body.metadata.instances;
    expect(forced.every((p: any) => p.action === "stop" && p.target === null)).toBe(true);
    const op = await finish(await act("src", { action: "evacuate", mode: "force-stop" }));
    expect(op.status).toBe("Success");
    for (const name of ["m", "lm", "s", "fs"]) {
      expect(await get(name)).toMatchObject({ location: "src", status: "Stopped", config: { "volatile.last_state.power": "RUNNING" } });
    }
  });

  it("stops an instance in place and says so when no member can take it", async () => {
    await create("huge", { config: { "limits.memory": "60GiB" } });
    await create("small");
    for (const m of ["a", "b", "c"]) await h.request("POST", `/1.0/instances?target=${m}`, { name: `fill-${m}`, config: { "limits.memory": "10GiB" } });
    const op = await finish(await act("src", { action: "evacuate" }));
    const huge = op.metadata.instances.find((i: any) => i.name === "huge");
    expect(huge).toMatchObject({ action: "stop", outcome: "stopped", target: null });
    expect(huge.why).toContain("no member can take it");
    expect(await get("huge")).toMatchObject({ location: "src", status: "Stopped" });
    expect((await get("small")).location).not.toBe("src");
  });

  it("the real run follows the dry-run plan when nothing changed", async () => {
    for (let i = 0; i < 9; i++) await create(`w${i}`, { config: { "limits.cpu": String(1 + (i % 3)) } });
    const plan = (await act("src", { action: "evacuate", dry_run: true })).body.metadata.instances;
    expect((await h.berth.services.store.listInstances({ location: "src" })).length).toBe(9); // dry run changed nothing
    const op = await finish(await act("src", { action: "evacuate" }));
    expect(op.metadata.instances.map((i: any) => [i.name, i.target])).toEqual(plan.map((p: any) => [p.name, p.target]));
  });

  it("leaves a failing instance untouched with its error, goes on, and a second evacuate retries what is left", async () => {
    for (let i = 0; i < 6; i++) await create(`i${i}`);
    const broken = new Set(["i1", "i4"]);
    h.executor.failing((a) => a.kind === "move" && broken.has(a.name), (a) => `target refused ${a.name}`);
    const op = await finish(await act("src", { action: "evacuate" }));
    expect(op.status).toBe("Failure");
    expect(op.err).toContain("2 of 6");
    expect(op.err).toContain("target refused i1");
    expect(op.metadata.instances.filter((i: any) => i.outcome === "failed").map((i: any) => i.name)).toEqual(["i1", "i4"]);
    for (const name of ["i1", "i4"]) {
      const i = await get(name);
      expect(i).toMatchObject({ location: "src", status: "Running" });
      expect(i.config["volatile.evacuate.origin"]).toBeUndefined();
      expect(i.config["volatile.last_state.power"]).toBeUndefined();
    }
    expect((await h.request("GET", "/1.0/cluster/members/src")).body.metadata.status).toBe("Evacuated");

    broken.clear();
    const retry = await finish(await act("src", { action: "evacuate" }));
    expect(retry.status).toBe("Success");
    expect(retry.metadata.instances.map((i: any) => i.name)).toEqual(["i1", "i4"]);
    expect(await h.berth.services.store.listInstances({ location: "src" })).toEqual([]);
  });

  it("evacuates two members at once without racing for the same capacity", async () => {
    await h.addMember("src2", { resources: { cpu: { total: 16 }, memory: { total: 128 * 1024 ** 3 } } });
    await h.request("POST", "/1.0/cluster/members/src/heartbeat", { resources: { cpu: { total: 16 }, memory: { total: 128 * 1024 ** 3 } } });
    // a, b, c can each take 4 instances of 15GiB: 12 slots for 12 instances.
    for (let i = 0; i < 6; i++) {
      await h.request("POST", "/1.0/instances?target=src", { name: `x${i}`, config: { "limits.memory": "15GiB" } });
      await h.request("POST", "/1.0/instances?target=src2", { name: `y${i}`, config: { "limits.memory": "15GiB" } });
    }
    const [r1, r2] = await Promise.all([act("src", { action: "evacuate" }), act("src2", { action: "evacuate" })]);
    const [o1, o2] = await Promise.all([finish(r1), finish(r2)]);
    expect([o1.status, o2.status]).toEqual(["Success", "Success"]);
    const all = await h.berth.services.store.listInstances();
    const perMember: Record<string, number> = {};
    for (const i of all) perMember[i.location] = (perMember[i.location] ?? 0) + 1;
    expect(perMember).toEqual({ a: 4, b: 4, c: 4 });
  });
});

describe("restore", () => {
  it("starts what the evacuation stopped, moves back what came from here, clears the keys, ends CREATED", async () => {
    await create("web");
    await create("gpu", { devices: { g: { type: "gpu" } } });
    await create("off", {}, false);
    await finish(await act("src", { action: "evacuate" }));
    const events: any[] = [];
    h.berth.services.bus.subscribe((e) => events.push(e));
    const plan = await act("src", { action: "restore", dry_run: true });
    expect(plan.body.metadata.start.map((i: any) => i.name)).toEqual(["gpu"]);
    expect(plan.body.metadata.move_back.map((i: any) => i.name).sort()).toEqual(["off", "web"]);
    const op = await finish(await act("src", { action: "restore" }));
    expect(op.status).toBe("Success");
    expect(await get("web")).toMatchObject({ location: "src", status: "Running" });
    expect(await get("gpu")).toMatchObject({ location: "src", status: "Running" });
    expect(await get("off")).toMatchObject({ location: "src", status: "Stopped" });
    for (const name of ["web", "gpu", "off"]) {
      const c = (await get(name)).config;
      expect(c["volatile.evacuate.origin"]).toBeUndefined();
      expect(c["volatile.last_state.power"]).toBeUndefined();
    }
    expect((await h.request("GET", "/1.0/cluster/members/src")).body.metadata.status).toBe("Online");
    expect(events.some((e) => e.metadata.action === "cluster-member-restored")).toBe(true);
  });

  it("a restore run again after a crash still starts what the crashed run had stopped, moved or not", async () => {
    await create("stopped-there");
    await create("moved-back");
    await finish(await act("src", { action: "evacuate" }));
    // What a kill -9 leaves: one stopped on its evacuation target, one moved home but not started.
    const instances = h.berth.services.records;
    await instances.setVolatile("default", "stopped-there", { "volatile.last_state.power": "RUNNING" });
    await instances.recordStatus("default", "stopped-there", "Stopped");
    await instances.setVolatile("default", "moved-back", { "volatile.last_state.power": "RUNNING", "volatile.evacuate.origin": null });
    await instances.recordStatus("default", "moved-back", "Stopped");
    await instances.recordLocation("default", "moved-back", "src");
    const op = await finish(await act("src", { action: "restore" }));
    expect(op.status).toBe("Success");
    for (const name of ["stopped-there", "moved-back"]) {
      const i = await get(name);
      expect(i, name).toMatchObject({ location: "src", status: "Running" });
      expect(i.config["volatile.last_state.power"], name).toBeUndefined();
      expect(i.config["volatile.evacuate.origin"], name).toBeUndefined();
    }
  });

  it("mode skip only flips the state", async () => {
    await create("web");
    await finish(await act("src", { action: "evacuate" }));
    const op = await finish(await act("src", { action: "restore", mode: "skip" }));
    expect(op.status).toBe("Success");
    expect((await get("web")).location).not.toBe("src");
    expect((await h.request("GET", "/1.0/cluster/members/src")).body.metadata.status).toBe("Online");
  });

  it("keeps the first origin when an instance is evacuated twice", async () => {
    await create("web");
    await finish(await act("src", { action: "evacuate" }));
    const first = (await get("web")).location;
    await finish(await act(first, { action: "evacuate" }));
    const w = await get("web");
    expect(w.location).not.toBe(first);
    expect(w.config["volatile.evacuate.origin"]).toBe("src");
  });
});

describe("409 rules and validation", () => {
  it("refuses evacuate during a restore and restore during an evacuation of the same member", async () => {
    for (let i = 0; i < 4; i++) await create(`i${i}`);
    h.executor.hold();
    const evac = await act("src", { action: "evacuate" });
    expect(evac.status).toBe(202);
    const restoreDuring = await act("src", { action: "restore" });
    expect(restoreDuring.status).toBe(409);
    expect(restoreDuring.body.error).toContain("evacuat");
    expect((await act("src", { action: "evacuate" })).status).toBe(409);
    h.executor.releaseAll();
    await finish(evac);
    h.executor.hold();
    const restore = await act("src", { action: "restore" });
    expect(restore.status).toBe(202);
    const evacDuring = await act("src", { action: "evacuate" });
    expect(evacDuring.status).toBe(409);
    expect(evacDuring.body.error).toContain("restor");
    h.executor.releaseAll();
    await finish(restore);
  });

  it("validates the request", async () => {
    expect((await act("src", { action: "reboot" })).status).toBe(400);
    expect((await act("src", { action: "evacuate", mode: "skip" })).status).toBe(400);
    expect((await act("src", { action: "restore", mode: "stop" })).status).toBe(400);
    expect((await act("ghost", { action: "evacuate" })).status).toBe(404);
    const notEvacuated = await act("src", { action: "restore" });
    expect(notEvacuated.status).toBe(409);
    expect(notEvacuated.body.error).toContain("not evacuated");
  });
});

describe("restore with mode skip", () => {
  it("plans nothing in a dry run and clears the power marks so a later evacuation does not start them", async () => {
    await create("a");
    await finish(await act("src", { action: "evacuate", mode: "stop" }));
    expect((await get("a")).config["volatile.last_state.power"]).toBe("RUNNING");
    const plan = await act("src", { action: "restore", mode: "skip", dry_run: true });
    expect(plan.body.metadata).toMatchObject({ start: [], move_back: [] });
    await finish(await act("src", { action: "restore", mode: "skip" }));
    expect(await get("a")).toMatchObject({ status: "Stopped", location: "src" });
    expect((await get("a")).config["volatile.last_state.power"]).toBeUndefined();
    await finish(await act("src", { action: "evacuate" }));
    expect((await get("a")).status).toBe("Stopped");
  });
});
