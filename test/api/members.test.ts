import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeHarness, type Harness } from "../support/harness.ts";

let h: Harness;
beforeEach(async () => { h = await makeHarness(); });
afterEach(async () => { await h.close(); });

describe("/1.0/cluster/members", () => {
  it("registers a member with declared resources, Pending until its first heartbeat", async () => {
    const created = await h.request("POST", "/1.0/cluster/members", {
      server_name: "node1", architecture: "aarch64", failure_domain: "rack1", url: "https://10.0.0.1:8443",
      resources: { cpu: { total: 16 }, memory: { total: 32 * 1024 ** 3 }, gpu: { cards: [{ vendor: "NVIDIA", model: "A100" }] } },
    });
    expect(created.status).toBe(201);
    expect(created.body.type).toBe("sync");
    expect(created.body.metadata).toMatchObject({
      server_name: "node1", architecture: "aarch64", failure_domain: "rack1", groups: ["default"],
      status: "Pending", last_heartbeat: null,
    });
    expect(created.body.metadata.resources.cpu).toEqual({ architecture: "aarch64", total: 16 });
    expect(created.body.metadata.resources.gpu.total).toBe(1);

    const list = await h.request("GET", "/1.0/cluster/members");
    expect(list.body.metadata).toEqual(["/1.0/cluster/members/node1"]);
    const full = await h.request("GET", "/1.0/cluster/members?recursion=1");
    expect(full.body.metadata[0].server_name).toBe("node1");

    await h.heartbeat("node1");
    const shown = await h.request("GET", "/1.0/cluster/members/node1");
    expect(shown.body.metadata).toMatchObject({ status: "Online", message: "Fully operational" });
  });

  it("goes Pending → Online → Offline → Online with the clock and the offline threshold", async () => {
    await h.request("POST", "/1.0/cluster/members", { server_name: "n1" });
    const status = async () => (await h.request("GET", "/1.0/cluster/members/n1")).body.metadata;
    expect((await status()).status).toBe("Pending");
    await h.heartbeat("n1");
    expect((await status()).status).toBe("Online");
    await h.clock.advance(20); // exactly the default threshold: still online
    expect((await status()).status).toBe("Online");
    await h.clock.advance(22);
    expect(await status()).toMatchObject({ status: "Offline", message: "No heartbeat for 42s" });
    await h.request("PATCH", "/1.0", { config: { "cluster.offline_threshold": 60 } });
    expect((await status()).status).toBe("Online");
    await h.clock.advance(30);
    expect((await status()).status).toBe("Offline");
    await h.heartbeat("n1");
    expect((await status()).status).toBe("Online");
  });

  it("emits a status change when the liveness sweep sees a member go offline", async () => {
    await h.addMember("n1");
    const seen: unknown[] = [];
    h.berth.services.bus.subscribe((e) => seen.push(e.metadata));
    h.clock.ms += 25_000; // without the harness's automatic sweep
    expect(await h.berth.liveness.tick()).toEqual(["n1"]);
    expect(seen).toContainEqual(expect.objectContaining({ action: "cluster-member-status-changed", context: expect.objectContaining({ from: "Online", to: "Offline" }) }));
    expect(await h.berth.liveness.tick()).toEqual([]);
  });

  it("heartbeat stores reported resources and state; GET state and resources return them", async () => {
    await h.request("POST", "/1.0/cluster/members", { server_name: "n1" });
    const hb = await h.request("POST", "/1.0/cluster/members/n1/heartbeat", {
      resources: { cpu: { total: 4 }, memory: { total: 8e9, used: 2e9 }, load: { average_1m: 0.5 } },
      state: { sysinfo: { uptime: 100, load_averages: [0.5, 0.4, 0.3], total_ram: 8e9, free_ram: 6e9, processes: 90, logical_cpus: 4 } },
    });
    expect(hb.status).toBe(200);
    expect(hb.body.metadata.status).toBe("Online");
    const state = await h.request("GET", "/1.0/cluster/members/n1/state");
    expect(state.body.metadata.sysinfo).toMatchObject({ uptime: 100, logical_cpus: 4, free_ram: 6e9 });
    const resources = await h.request("GET", "/1.0/cluster/members/n1/resources");
    expect(resources.body.metadata.memory).toEqual({ total: 8e9, used: 2e9 });
    expect(resources.body.metadata.load.average_1m).toBe(0.5);
  });

  it("updates with PATCH (merge) and PUT (replace), validating member config", async () => {
    await h.addMember("n1");
    const patched = await h.request("PATCH", "/1.0/cluster/members/n1", { config: { "scheduler.instance": "manual" }, description: "rack 1" });
    expect(patched.body.metadata).toMatchObject({ config: { "scheduler.instance": "manual" }, description: "rack 1" });
    const patched2 = await h.request("PATCH", "/1.0/cluster/members/n1", { config: { "user.owner": "ops" } });
    expect(patched2.body.metadata.config).toEqual({ "scheduler.instance": "manual", "user.owner": "ops" });
    const bad = await h.request("PATCH", "/1.0/cluster/members/n1", { config: { "scheduler.instance": "sometimes" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain("scheduler.instance");
    expect(bad.body.error).toContain("sometimes");
    const put = await h.request("PUT", "/1.0/cluster/members/n1", { failure_domain: "rack2", status: "Online" });
    expect(put.body.metadata).toMatchObject({ config: {}, description: "", failure_domain: "rack2" });
  });

  it("refuses duplicates, bad names and removing a member that hosts instances", async () => {
    await h.addMember("n1");
    expect((await h.request("POST", "/1.0/cluster/members", { server_name: "n1" })).status).toBe(409);
    for (const name of ["a b", "a/b", "", "-x", "x".repeat(64)]) {
      const r = await h.request("POST", "/1.0/cluster/members", { server_name: name });
      expect(r.status, name).toBe(400);
      expect(r.body.error).toContain("server_name");
    }
    await h.request("POST", "/1.0/instances?target=n1", { name: "web1" });
    const del = await h.request("DELETE", "/1.0/cluster/members/n1");
    expect(del.status).toBe(409);
    expect(del.body.error).toContain("default/web1");
    // lxc cluster remove --force sends ?force=1: never past the instances either.
    expect((await h.request("DELETE", "/1.0/cluster/members/n1?force=1")).status).toBe(409);
    expect((await h.request("DELETE", "/1.0/cluster/members/n1?force=perhaps")).status).toBe(400);
    // A member that never heartbeated (Pending) goes with force, as an offline one does.
    await h.request("POST", "/1.0/cluster/members", { server_name: "never" });
    expect((await h.request("DELETE", "/1.0/cluster/members/never?force=1")).status).toBe(200);
    expect((await h.run("DELETE", "/1.0/instances/web1")).op?.status).toBe("Success");
    expect((await h.request("DELETE", "/1.0/cluster/members/n1")).status).toBe(200);
    expect((await h.request("GET", "/1.0/cluster/members/n1")).status).toBe(404);
  });
});

describe("bodies LXD clients send", () => {
  it("evacuate and restore with mode \"\" (the default), a group with members: null, cluster unset as \"\"", async () => {
    await h.addMember("n1");
    await h.addMember("n2");
    const evacuate = await h.request("POST", "/1.0/cluster/members/n1/state", { action: "evacuate", mode: "" });
    expect(evacuate.status).toBe(202);
    expect((await h.request("GET", `${evacuate.body.operation}/wait?timeout=5`)).body.metadata.status).toBe("Success");
    expect((await h.request("GET", "/1.0/cluster/members/n1")).body.metadata.status).toBe("Evacuated");
    const restore = await h.request("POST", "/1.0/cluster/members/n1/state", { action: "restore", mode: "" });
    expect((await h.request("GET", `${restore.body.operation}/wait?timeout=5`)).body.metadata.status).toBe("Success");
    expect((await h.request("POST", "/1.0/cluster/members/n1/state", { action: "evacuate", mode: "teleport" })).status).toBe(400);

    expect((await h.request("POST", "/1.0/cluster/groups", { name: "g1", description: "", members: null })).status).toBe(201);
    // lxc cluster set / unset: the writable part back with PUT, an unset key as "".
    const member = (await h.request("GET", "/1.0/cluster/members/n2")).body.metadata;
    const put = await h.request("PUT", "/1.0/cluster/members/n2", {
      config: { "scheduler.instance": "manual" }, description: member.description, roles: member.roles, failure_domain: "rack2", groups: member.groups,
    });
    expect(put.body.metadata).toMatchObject({ config: { "scheduler.instance": "manual" }, failure_domain: "rack2" });
    const unset = await h.request("PUT", "/1.0/cluster/members/n2", { ...put.body.metadata, config: { "scheduler.instance": "" } });
    expect(unset.status).toBe(200);
    expect(unset.body.metadata.config).toEqual({});
  });
});

describe("config maps", () => {
  it("an empty value in a PATCH removes a member or project config key", async () => {
    const h2 = await makeHarness();
    await h2.addMember("n1", { config: { "scheduler.instance": "manual", "user.a": "1" } });
    const r = await h2.request("PATCH", "/1.0/cluster/members/n1", { config: { "scheduler.instance": "" } });
    expect(r.body.metadata.config).toEqual({ "user.a": "1" });
    await h2.request("POST", "/1.0/projects", { name: "p", config: { "user.x": "1", "user.y": "2" } });
    const p = await h2.request("PATCH", "/1.0/projects/p", { config: { "user.x": "" } });
    expect(p.body.metadata.config).toEqual({ "user.y": "2" });
    await h2.close();
  });
});
