import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeHarness, type Harness } from "../support/harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
  await h.addMember("n1");
  await h.addMember("n2");
});
afterEach(async () => { await h.close(); });

async function waitOp(path: string) {
  return h.request("GET", `${path}/wait?timeout=5`);
}

describe("/1.0/instances", () => {
  it("creates on a target, lists per project and across projects, shows", async () => {
    const r = await h.run("POST", "/1.0/instances?target=n2", {
      name: "web1", type: "virtual-machine", config: { "limits.cpu": "2", "limits.memory": "2GiB", "user.app": "web" },
      devices: { eth0: { type: "nic", network: "lxdbr0" } }, description: "front",
    });
    // As LXD: an async answer whose operation names the instance; its metadata says where it landed.
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ type: "async", status_code: 100, metadata: { class: "task", description: "Creating instance", resources: { instances: ["/1.0/instances/web1"] }, metadata: { location: "n2" } } });
    expect(r.op).toMatchObject({ status: "Success", metadata: { location: "n2", status: "Stopped" } });
    expect((await h.request("GET", "/1.0/instances/web1")).body.metadata).toMatchObject({
      name: "web1", project: "default", type: "virtual-machine", location: "n2", status: "Stopped",
      architecture: "x86_64", profiles: ["default"], description: "front",
    });
    await h.request("POST", "/1.0/projects", { name: "team" });
    const team = await h.run("POST", "/1.0/instances?project=team&target=n1", { name: "web1" });
    expect(team.op).toMatchObject({ status: "Success", resources: { instances: ["/1.0/instances/web1?project=team"] } });
    expect((await h.request("GET", "/1.0/instances")).body.metadata).toEqual(["/1.0/instances/web1"]);
    expect((await h.request("GET", "/1.0/instances?project=team")).body.metadata).toEqual(["/1.0/instances/web1?project=team"]);
    const all = await h.request("GET", "/1.0/instances?all-projects=true&recursion=1");
    expect(all.body.metadata.map((i: any) => `${i.project}/${i.name}@${i.location}`)).toEqual(["default/web1@n2", "team/web1@n1"]);
    expect((await h.request("GET", "/1.0/instances/web1?project=team")).body.metadata.location).toBe("n1");
    expect((await h.request("GET", "/1.0/instances?project=ghost")).status).toBe(404);
  });

  it("refuses a duplicate name, unknown config keys, volatile keys, bad devices, a missing pool", async () => {
    await h.request("POST", "/1.0/instances?target=n1", { name: "a" });
    expect((await h.request("POST", "/1.0/instances?target=n1", { name: "a" })).status).toBe(409);
    const cases: [unknown, string][] = [
      [{ name: "b", config: { "limits.cpu": "lots" } }, "limits.cpu"],
      [{ name: "b", config: { "limits.memory": "2 parsecs" } }, "limits.memory"],
      [{ name: "b", config: { "boot.teleport": "1" } }, "boot.teleport"],
      [{ name: "b", config: { "volatile.evacuate.origin": "n1" } }, "volatile.evacuate.origin"],
      [{ name: "b", config: { "cluster.evacuate": "yeet" } }, "cluster.evacuate"],
      [{ name: "b", devices: { root: { type: "disk", path: "/", pool: "nope" } } }, "nope"],
      [{ name: "b", devices: { x: { type: "hologram" } } }, "hologram"],
      [{ name: "b", type: "pod" }, "type"],
      [{ name: "b c" }, "name"],
    ];
    for (const [body, word] of cases) {
      const r = await h.request("POST", "/1.0/instances?target=n1", body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error).toContain(word);
    }
    expect((await h.request("GET", "/1.0/instances/b")).status).toBe(404);
  });

  it("refuses a target that is unknown or not online", async () => {
    const unknown = await h.request("POST", "/1.0/instances?target=ghost", { name: "a" });
    expect(unknown.status).toBe(404);
    await h.clock.advance(30);
    await h.heartbeat("n1");
    const offline = await h.request("POST", "/1.0/instances?target=n2", { name: "a" });
    expect(offline.status).toBe(409);
    expect(offline.body.error).toContain("Offline");
  });

  it("PATCH merges config, an empty value unsets, PUT replaces and keeps volatile keys", async () => {
    await h.request("POST", "/1.0/instances?target=n1", { name: "a", config: { "limits.cpu": "1", "user.x": "1" } });
    await h.berth.services.records.setVolatile("default", "a", { "volatile.evacuate.origin": "n1" });
    const p = await h.request("PATCH", "/1.0/instances/a", { config: { "limits.memory": "1GiB", "user.x": "" } });
    expect(p.body.metadata.config).toEqual({ "limits.cpu": "1", "limits.memory": "1GiB", "volatile.evacuate.origin": "n1" });
    const current = (await h.request("GET", "/1.0/instances/a")).body.metadata;
    // PUT answers with an operation (as LXD); the change is stored by then.
    const put = await h.run("PUT", "/1.0/instances/a", { ...current, config: { "limits.cpu": "4", "volatile.evacuate.origin": "n1" } });
    expect(put.status).toBe(202);
    expect(put.op).toMatchObject({ status: "Success", description: "Updating instance", resources: { instances: ["/1.0/instances/a"] } });
    expect((await h.request("GET", "/1.0/instances/a")).body.metadata.config).toEqual({ "limits.cpu": "4", "volatile.evacuate.origin": "n1" });
    const tamper = await h.request("PATCH", "/1.0/instances/a", { config: { "volatile.evacuate.origin": "n2" } });
    expect(tamper.status).toBe(400);
  });

  it("starts and stops through async operations; delete refuses a running instance unless forced", async () => {
    await h.request("POST", "/1.0/instances?target=n1", { name: "a" });
    const start = await h.request("PUT", "/1.0/instances/a/state", { action: "start" });
    expect(start.status).toBe(202);
    expect(start.body.type).toBe("async");
    const done = await waitOp(start.body.operation!);
    expect(done.body.metadata).toMatchObject({ status: "Success", status_code: 200 });
    expect((await h.request("GET", "/1.0/instances/a/state")).body.metadata).toMatchObject({ status: "Running", location: "n1" });
    const del = await h.request("DELETE", "/1.0/instances/a");
    expect(del.status).toBe(400);
    expect(del.body.error).toContain("running");
    const stop = await h.request("PUT", "/1.0/instances/a/state", { action: "stop", force: true });
    await waitOp(stop.body.operation!);
    expect((await h.request("GET", "/1.0/instances/a")).body.metadata.status).toBe("Stopped");
    await h.request("PUT", "/1.0/instances/a/state", { action: "start" }).then((r) => waitOp(r.body.operation!));
    // Delete is async too (as LXD); refusals came before the operation, above.
    const forced = await h.run("DELETE", "/1.0/instances/a?force=true");
    expect(forced.status).toBe(202);
    expect(forced.op).toMatchObject({ status: "Success", description: "Deleting instance", resources: { instances: ["/1.0/instances/a"] } });
    expect((await h.request("GET", "/1.0/instances/a")).status).toBe(404);
  });

  it("answers in LXD's shapes: status_code, the full form with state at recursion=2 (list) and recursion=1 (one), no snapshots", async () => {
    await h.createInstance({ name: "web", start: true, config: { "limits.cpu": "1" } }, "target=n1");
    await h.request("POST", "/1.0/instances?target=n2", { name: "db" });
    const one = (await h.request("GET", "/1.0/instances/web")).body.metadata;
    expect(one).toMatchObject({ name: "web", status: "Running", status_code: 103, ephemeral: false, stateful: false });
    expect(one.state).toBeUndefined();
    const full = (await h.request("GET", "/1.0/instances/web?recursion=1")).body.metadata;
    expect(full).toMatchObject({ ...one, snapshots: [], backups: [], state: { status: "Running", status_code: 103, pid: 0, network: {}, disk: {} } });
    const list = (await h.request("GET", "/1.0/instances?recursion=2")).body.metadata;
    expect(list.map((i: any) => [i.name, i.state.status_code])).toEqual([["db", 102], ["web", 103]]);
    expect((await h.request("GET", "/1.0/instances?recursion=1")).body.metadata[0].state).toBeUndefined();
    expect((await h.request("GET", "/1.0/instances/web/state")).body.metadata).toMatchObject({ status: "Running", status_code: 103, location: "n1" });
    expect((await h.request("GET", "/1.0/instances/web/snapshots")).body.metadata).toEqual([]);
    expect((await h.request("GET", "/1.0/instances/nope/snapshots")).status).toBe(404);
  });

  it("filters lists with LXD's filter= (what `lxc list status=running` sends), on any recursion", async () => {
    await h.createInstance({ name: "web", start: true }, "target=n1");
    await h.request("POST", "/1.0/instances?target=n2", { name: "db" });
    const q = (filter: string, recursion = 2) => h.request("GET", `/1.0/instances?recursion=${recursion}&filter=${encodeURIComponent(filter)}`);
    expect((await q("status eq running")).body.metadata.map((i: any) => i.name)).toEqual(["web"]);
    expect((await q("status eq running", 0)).body.metadata).toEqual(["/1.0/instances/web"]);
    expect((await q("location eq n2 or name eq web")).body.metadata.map((i: any) => i.name)).toEqual(["db", "web"]);
    expect((await q("not state.status eq running")).body.metadata.map((i: any) => i.name)).toEqual(["db"]);
    const bad = await q("status like running");
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('unknown operator "like"');
    expect((await h.request("GET", `/1.0/cluster/members?recursion=1&filter=${encodeURIComponent("server_name eq n2")}`)).body.metadata.map((m: any) => m.server_name)).toEqual(["n2"]);
  });

  it("accepts the fields LXD clients send, and still refuses what LXD would", async () => {
    // lxc init --empty c1 --target n1
    const init = await h.request("POST", "/1.0/instances?target=n1", {
      name: "c1", type: "container", architecture: "", profiles: null, ephemeral: false, stateful: false, instance_type: "",
      source: { type: "none", certificate: "", allow_inconsistent: false }, config: null, devices: null, description: "",
    });
    expect(init.status).toBe(202);
    expect(init.body.metadata.resources).toEqual({ instances: ["/1.0/instances/c1"] }); // what lxc init reads
    expect((await h.request("GET", "/1.0/instances/c1")).body.metadata).toMatchObject({ name: "c1", architecture: "x86_64", profiles: ["default"], location: "n1" });
    // lxc config set c1 limits.cpu 2: the writable part back with PUT; "" unsets a key.
    const current = (await h.request("GET", "/1.0/instances/c1")).body.metadata;
    const put = await h.run("PUT", "/1.0/instances/c1", {
      architecture: current.architecture, config: { "limits.cpu": "2", "user.gone": "" }, devices: {}, ephemeral: false, profiles: ["default"], stateful: false, description: "",
    });
    expect(put.op?.status).toBe("Success");
    expect((await h.request("GET", "/1.0/instances/c1")).body.metadata.config).toEqual({ "limits.cpu": "2" });
    // lxc config unset c1 limits.cpu: the key sent empty, not validated as a value.
    const unset = await h.run("PUT", "/1.0/instances/c1", { config: { "limits.cpu": "" }, devices: {}, profiles: ["default"] });
    expect(unset.op?.status).toBe("Success");
    expect((await h.request("GET", "/1.0/instances/c1")).body.metadata.config).toEqual({});
    // The whole GET object back, as Berth's own users do.
    expect((await h.run("PUT", "/1.0/instances/c1", current)).op?.status).toBe("Success");
    // lxc move c1 --target n2
    const move = await h.request("POST", "/1.0/instances/c1?target=n2", {
      name: "c1", migration: true, live: false, instance_only: false, container_only: false, target: null, pool: "", project: "", allow_inconsistent: false,
    });
    expect(move.status).toBe(202);
    expect((await waitOp(move.body.operation!)).body.metadata.status).toBe("Success");
    expect((await h.request("GET", "/1.0/instances/c1")).body.metadata.location).toBe("n2");

    const refused: [string, string, unknown, string][] = [
      ["POST", "/1.0/instances", { name: "x", ephemeral: true }, "ephemeral"],
      ["POST", "/1.0/instances", { name: "x", instance_type: "t2.micro" }, "instance types"],
      ["POST", "/1.0/instances", { name: "x", source: { type: "migration" } }, "source.type"],
      ["POST", "/1.0/instances", { name: "x", image: "ubuntu" }, '"image"'],
      ["PUT", "/1.0/instances/c1", { config: {}, stateful: true }, "stateful"],
      ["POST", "/1.0/instances/c1", { migration: true, pool: "other" }, "pool"],
      ["POST", "/1.0/instances/c1", { migration: true, project: "team" }, "project"],
      ["POST", "/1.0/instances/c1", { migration: true, target: { operation: "x" } }, "target"],
      ["POST", "/1.0/instances/c1", { name: "c2", migration: false }, "renaming"],
      ["POST", "/1.0/instances/c1", { migration: true, speed: 3 }, '"speed"'],
    ];
    for (const [method, path, body, word] of refused) {
      const r = await h.request(method, path, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.toLowerCase(), JSON.stringify(body)).toContain(word.toLowerCase());
    }
  });

  it("creates running with start: true", async () => {
    const r = await h.run("POST", "/1.0/instances?target=n1", { name: "a", start: true });
    expect(r.op).toMatchObject({ status: "Success", metadata: { location: "n1", status: "Running" } });
    expect((await h.request("GET", "/1.0/instances/a")).body.metadata.status).toBe("Running");
  });
});
