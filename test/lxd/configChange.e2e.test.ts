/**
 * Changes made through Berth to an instance that lives on an lxd member reach its container
 * (docs/lxd.md), with a real LXD daemon and a real `berth agent --driver lxd`: a PATCH sets keys
 * live (the container keeps running, not restarted), a PUT drops keys and devices; LXD's own keys
 * and what an operator set with `lxc config set` stay.
 */
import { chmodSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { AgentCluster } from "../agent/agentCluster.ts";
import { cleanUpData, tempDir, waitUntil } from "../agent/support.ts";
import { describeWithLxd } from "./describeWithLxd.ts";
import { IMAGE_ALIAS, startLxdHosts, stopLxdHosts, type LxdHost } from "./lxdHosts.ts";

describeWithLxd("instance changes pushed to LXD", () => {
  let started: Awaited<ReturnType<typeof startLxdHosts>> | undefined;
  let host: LxdHost;
  let c: AgentCluster | undefined;
  let shared: string;

  beforeAll(async () => {
    started = await startLxdHosts(1, "lxd-change");
    host = started.hosts[0]!;
    shared = tempDir("lxd-change-shared");
    chmodSync(shared, 0o755);
    c = await AgentCluster.start();
    await c.join("m1", [], ["lxd", "--lxd-socket", host.socket]);
  }, 300_000);

  afterAll(async () => {
    await c?.close();
    await stopLxdHosts(started);
    if (shared) cleanUpData(shared);
  }, 300_000);

  it("a PATCH sets keys on the running container, a PUT drops keys and devices; LXD's keys and the operator's stay", { timeout: 300_000 }, async () => {
    const created = await c!.api("POST", "/1.0/instances?target=m1", {
      name: "app", source: { type: "image", alias: IMAGE_ALIAS }, start: true,
      config: { "boot.host_shutdown_timeout": "10", "user.team": "blue", "limits.memory": "256MiB" },
      devices: { data: { type: "disk", source: shared, path: "/mnt/data" } },
    });
    expect(created.metadata.status, created.metadata.err).toBe("Success");
    const lxdApp = () => host.api("GET", "/1.0/instances/app");
    expect((await lxdApp()).devices).toEqual({ data: { type: "disk", source: shared, path: "/mnt/data" } });
    await host.ok(["config", "set", "app", "user.by-hand", "yes"]);
    const pid = (await host.api("GET", "/1.0/instances/app/state")).pid;

    const patched = await c!.api("PATCH", "/1.0/instances/app", { config: { "user.team": "red", "limits.cpu": "0.5" } });
    expect(patched.status, patched.error).toBe(200);
    await waitUntil(async () => (await lxdApp()).config["user.team"] === "red", "the agent pushes the PATCH to LXD", 60_000);
    expect((await lxdApp()).config).toMatchObject({ "user.team": "red", "limits.cpu.allowance": "50ms/100ms", "limits.memory": "256MiB", "user.by-hand": "yes", "user.berth.member": "m1" });
    expect(await host.list()).toEqual({ app: "RUNNING" });
    expect((await host.api("GET", "/1.0/instances/app/state")).pid).toBe(pid);

    const replaced = await c!.api("PUT", "/1.0/instances/app", {
      config: { "boot.host_shutdown_timeout": "10", "limits.cpu": "0.5" }, devices: {}, profiles: ["default"], description: "resized",
    });
    expect(replaced.status, replaced.error).toBe(200);
    await waitUntil(async () => (await lxdApp()).description === "resized", "the agent pushes the PUT to LXD", 60_000);
    const after = await lxdApp();
    expect(after.devices).toEqual({});
    expect(after.config["user.team"]).toBeUndefined();
    expect(after.config["limits.memory"]).toBeUndefined();
    expect(after.config).toMatchObject({ "limits.cpu.allowance": "50ms/100ms", "user.by-hand": "yes", "user.berth.member": "m1", "user.berth.name": "app" });
    expect(Object.keys(after.config).some((k) => k.startsWith("volatile."))).toBe(true);
    expect(await host.list()).toEqual({ app: "RUNNING" });
  });
});
