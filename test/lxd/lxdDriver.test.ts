/**
 * The lxd driver against two real LXD daemons (lxdHosts.ts): resources read from LXD, create from
 * an image source with the ownership keys, start, clean stop, a container stopped behind Berth's
 * back shows Error, containers Berth does not own are never touched, remove deletes, and a
 * stopped container migrates daemon to daemon with LXD's migration API (pull mode) with its files.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { LxdDriver } from "../../src/agent/drivers/lxd.ts";
import { LxdClient } from "../../src/agent/drivers/lxdClient.ts";
import type { DesiredInstance } from "../../src/agent/protocol.ts";
import { driverContext } from "../agent/support.ts";
import { describeWithLxd } from "./describeWithLxd.ts";
import { IMAGE_ALIAS, startLxdHosts, stopLxdHosts, type LxdHost } from "./lxdHosts.ts";

describeWithLxd("the lxd driver over real LXD daemons", () => {
  let started: Awaited<ReturnType<typeof startLxdHosts>> | undefined;
  let host1: LxdHost;
  let host2: LxdHost;
  let data: string;
  let d1: LxdDriver;
  let d2: LxdDriver;

  const instance = (name: string, extra: Partial<DesiredInstance> = {}): DesiredInstance => ({
    project: "default", name, type: "container", description: "", profiles: ["default"], devices: {},
    config: { "boot.host_shutdown_timeout": "10", "volatile.evacuate.origin": "m9", "berth.stateless": "false", "limits.cpu": "0.5", "user.team": "blue" },
    source: { type: "image", alias: IMAGE_ALIAS }, desired: "Running", ...extra,
  });

  beforeAll(async () => {
    started = await startLxdHosts(2, "lxd-driver");
    [host1, host2] = started.hosts as [LxdHost, LxdHost];
    data = mkdtempSync(join(tmpdir(), "berth-lxd-driver-data-"));
    d1 = new LxdDriver(driverContext(join(data, "m1"), "m1"), new LxdClient(host1.socket));
    d2 = new LxdDriver(driverContext(join(data, "m2"), "m2"), new LxdClient(host2.socket));
  }, 240_000);

  afterAll(async () => {
    await stopLxdHosts(started);
    if (data) rmSync(data, { recursive: true, force: true });
  }, 240_000);

  it("reports LXD's own cpu, memory and storage pools with their driver", async () => {
    const r = await d1.resources();
    expect(r.cpu!.total).toBeGreaterThan(0);
    expect(r.memory!.total).toBeGreaterThan(0);
    expect(r.storage!.pools.default).toMatchObject({ driver: "dir" });
    expect(r.storage!.pools.default!.total).toBeGreaterThan(0);
  });

  it("creates from the image source with the ownership keys, starts, stops cleanly, and deletes on remove", { timeout: 180_000 }, async () => {
    const web = instance("web");
    expect(await d1.status(web)).toEqual({ status: "Stopped" }); // not created yet
    await d1.start(web);
    expect(await host1.list()).toEqual({ web: "RUNNING" });
    expect((await d1.status(web)).status).toBe("Running");
    const config = (await host1.api("GET", "/1.0/instances/web")).config;
    expect(config).toMatchObject({ "user.berth.member": "m1", "user.berth.project": "default", "user.berth.name": "web", "user.team": "blue", "limits.cpu.allowance": "50ms/100ms" });
    expect(Object.keys(config).filter((k) => k.startsWith("berth.") || k === "volatile.evacuate.origin" || k === "limits.cpu")).toEqual([]);
    await d1.start(web); // idempotent
    expect(await d1.owned()).toMatchObject([{ project: "default", name: "web", desired: "Running" }]);

    await d1.stop(web, 10);
    expect(await host1.list()).toEqual({ web: "STOPPED" });
    expect(await d1.status(web)).toEqual({ status: "Stopped" });
    await d1.stop(web, 10); // idempotent

    await d1.start(web);
    await host1.ok(["stop", "--force", "web"]); // behind Berth's back
    expect(await d1.status(web)).toMatchObject({ status: "Error", reason: expect.stringMatching(/stopped without Berth asking/) });

    await d1.remove(web);
    expect(await host1.list()).toEqual({});
  });

  it("never touches a container it does not own, and says so", { timeout: 120_000 }, async () => {
    await host1.ok(["init", IMAGE_ALIAS, "foreign"]);
    const foreign = instance("foreign");
    expect(await d1.status(foreign)).toMatchObject({ status: "Error", reason: expect.stringMatching(/does not own/) });
    await expect(d1.start(foreign)).rejects.toThrow(/does not own.*user\.berth\.member/);
    await d1.stop(foreign, 1);
    await d1.remove(foreign);
    expect(await host1.list()).toEqual({ foreign: "STOPPED" });
    expect(await d1.owned()).toEqual([]);
    await host1.ok(["delete", "foreign"]);
  });

  it("refuses to create without an image source, naming what to pass", async () => {
    await expect(d1.start(instance("empty", { source: undefined }))).rejects.toThrow(/no image to create it from.*"source"/);
    expect(await host1.list()).toEqual({});
  });

  it("migrates a stopped container to another daemon with its files (pull mode)", { timeout: 240_000 }, async () => {
    const db = instance("db");
    await d1.start(db);
    await host1.ok(["exec", "db", "--", "/bin/sh", "-c", "echo kept-across > /root/marker"]);
    await expect(d1.migrateOut(db)).rejects.toThrow(/stopped before it migrates/);
    await d1.stop(db, 10);
    const offer = await d1.migrateOut(db);
    expect(offer.operation).toMatch(new RegExp(`^https://${host1.httpsAddress.replace(/\./g, "\\.")}/1\\.0/operations/`));
    await d2.migrateIn(db, offer);
    expect(await host2.list()).toEqual({ db: "STOPPED" });
    expect((await host2.api("GET", "/1.0/instances/db")).config["user.berth.member"]).toBe("m2");
    await d2.start(db);
    expect(await host2.list()).toEqual({ db: "RUNNING" });
    expect((await host2.ok(["exec", "db", "--", "/bin/cat", "/root/marker"])).trim()).toBe("kept-across");
    // The source's copy is still there until Berth removes it (it is no longer listed there).
    expect(await host1.list()).toEqual({ db: "STOPPED" });
    await d1.remove(db);
    expect(await host1.list()).toEqual({});
    await d2.remove(db);
  });
});
