/**
 * The stock lxc client (LXD 5.0.2) drives Berth over its unix socket: each command of the
 * compatibility issue, with its output checked. One berth serve for the file; the tests run in
 * order and build on each other (members, then groups, pools, instances, maintenance).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import YAML from "yaml";
import { describeWithLxc, startLxcHarness, type LxcHarness } from "./lxcHarness.ts";

let h: LxcHarness;

/** `lxc list` as rows of the given columns (csv). */
const rows = async (args: string[] = [], columns = "nsL") =>
  (await h.ok(["list", ...args, "--format", "csv", "-c", columns])).trim().split("\n").filter(Boolean).map((line) => line.split(","));

describeWithLxc("the lxc client against berth serve", () => {
  beforeAll(async () => {
    h = await startLxcHarness();
    // Members registered through Berth's API; heartbeats once an hour are enough for this file.
    await h.api("PATCH", "/1.0", { config: { "cluster.offline_threshold": 3600 } });
    for (const name of ["node1", "node2", "node3"]) await h.addMember(name, { failure_domain: name === "node1" ? "rack1" : "rack2" });
  }, 60_000);
  afterAll(async () => { await h?.close(); });

  it("lxc info: the socket's user is trusted, the server is clustered and lists what it implements", async () => {
    const info = YAML.parse(await h.ok(["info"]));
    expect(info).toMatchObject({ auth: "trusted", api_version: "1.0", environment: { server: "berth", server_clustered: true } });
    expect(info.api_extensions).toEqual(expect.arrayContaining(["clustering", "clustering_evacuation", "instances", "container_full", "api_filtering"]));
    expect(info.config).toEqual({ "cluster.offline_threshold": "3600" }); // strings, as LXD
  });

  it("lxc cluster list / show", async () => {
    const table = await h.ok(["cluster", "list"]);
    expect(table).toMatch(/\|\s*NAME\s*\|\s*URL\s*\|\s*ROLES\s*\|\s*ARCHITECTURE\s*\|\s*FAILURE DOMAIN\s*\|\s*DESCRIPTION\s*\|\s*STATE\s*\|\s*MESSAGE\s*\|/);
    expect(table).toMatch(/\|\s*node1\s*\|\s*\|\s*\|\s*x86_64\s*\|\s*rack1\s*\|\s*\|\s*ONLINE\s*\|\s*Fully operational\s*\|/);
    expect(table.match(/ONLINE/g)).toHaveLength(3);
    const shown = YAML.parse(await h.ok(["cluster", "show", "node2"]));
    expect(shown).toMatchObject({ server_name: "node2", status: "Online", failure_domain: "rack2", groups: ["default"], architecture: "x86_64" });
    expect(await h.fails(["cluster", "show", "ghost"])).toContain('Cluster member "ghost" not found');
  });

  it("lxc cluster group create / assign / list", async () => {
    expect(await h.ok(["cluster", "group", "create", "gpu"])).toContain("Cluster group gpu created");
    expect(await h.ok(["cluster", "group", "assign", "node3", "gpu,default"])).toContain("Cluster member node3 added to cluster groups gpu,default");
    const table = await h.ok(["cluster", "group", "list"]);
    expect(table).toMatch(/\|\s*default\s*\|\s*Default cluster group\s*\|\s*3\s*\|/);
    expect(table).toMatch(/\|\s*gpu\s*\|\s*\|\s*1\s*\|/);
    expect((await h.api("GET", "/1.0/cluster/members/node3")).groups).toEqual(["default", "gpu"]);
    expect(await h.fails(["cluster", "group", "assign", "node3", "nosuch"])).toContain('cluster group "nosuch" does not exist');
  });

  it("lxc cluster set / get / unset on a member", async () => {
    await h.ok(["cluster", "set", "node3", "scheduler.instance", "manual"]);
    expect((await h.ok(["cluster", "get", "node3", "scheduler.instance"])).trim()).toBe("manual");
    expect(YAML.parse(await h.ok(["cluster", "show", "node3"])).config).toEqual({ "scheduler.instance": "manual" });
    await h.ok(["cluster", "unset", "node3", "scheduler.instance"]);
    expect(YAML.parse(await h.ok(["cluster", "show", "node3"])).config).toEqual({});
    expect(await h.fails(["cluster", "set", "node3", "scheduler.instance", "sometimes"])).toContain("scheduler.instance");
  });

  it("lxc project create / list, and instances in a project", async () => {
    expect(await h.ok(["project", "create", "team"])).toContain("Project team created");
    await h.ok(["init", "--empty", "t1", "--project", "team", "--target", "node2"]);
    const table = await h.ok(["project", "list"]);
    expect(table).toMatch(/\|\s*default \(current\)\s*\|.*\|\s*Default project\s*\|\s*0\s*\|/);
    expect(table).toMatch(/\|\s*team\s*\|.*\|\s*1\s*\|/); // used by t1
    expect(await rows(["--project", "team"])).toEqual([["t1", "STOPPED", "node2"]]);
    expect(await rows()).toEqual([]); // the default project has none yet
    await h.ok(["delete", "t1", "--project", "team"]);
  });

  it("lxc storage create --target (Pending on each member), create, list", async () => {
    for (const member of ["node1", "node2", "node3"]) {
      expect(await h.ok(["storage", "create", "local", "dir", "--target", member])).toContain(`Storage pool local pending on member ${member}`);
    }
    expect(await h.ok(["storage", "list"])).toMatch(/\|\s*local\s*\|\s*dir\s*\|\s*\|\s*0\s*\|\s*PENDING\s*\|/);
    expect(await h.ok(["storage", "create", "local", "dir"])).toContain("Storage pool local created");
    expect(await h.ok(["storage", "create", "shared", "ceph"])).toContain("Storage pool shared created");
    const table = await h.ok(["storage", "list"]);
    expect(table).toMatch(/\|\s*local\s*\|\s*dir\s*\|\s*\|\s*0\s*\|\s*CREATED\s*\|/);
    expect(table).toMatch(/\|\s*shared\s*\|\s*ceph\s*\|\s*\|\s*0\s*\|\s*CREATED\s*\|/);
    expect(YAML.parse(await h.ok(["storage", "show", "local"]))).toMatchObject({ status: "Created", locations: ["node1", "node2", "node3"], used_by: [] });
  });

  it("lxc init --empty [--target], start, list (with status=running), info", async () => {
    expect(await h.ok(["init", "--empty", "web1", "--target", "node1"])).toContain("Creating web1");
    // Without a target Berth places it (fewest instances first): not on node1, which has web1.
    expect(await h.ok(["init", "--empty", "db1", "-s", "local", "-c", "limits.memory=2GiB"])).toContain("Creating db1");
    const db1 = await h.api("GET", "/1.0/instances/db1");
    expect(db1).toMatchObject({ config: { "limits.memory": "2GiB" }, devices: { root: { type: "disk", pool: "local", path: "/" } } });
    expect(db1.location).not.toBe("node1"); // node1 already has web1

    await h.ok(["start", "web1"]);
    expect(await rows()).toEqual([["db1", "STOPPED", db1.location], ["web1", "RUNNING", "node1"]]);
    expect(await rows(["status=running"])).toEqual([["web1", "RUNNING", "node1"]]);
    expect(await rows(["location=node1"], "n")).toEqual([["web1"]]);
    const table = await h.ok(["list"]);
    expect(table).toMatch(/\|\s*NAME\s*\|\s*STATE\s*\|\s*IPV4\s*\|\s*IPV6\s*\|\s*TYPE\s*\|\s*SNAPSHOTS\s*\|\s*LOCATION\s*\|/);
    expect(table).toMatch(/\|\s*web1\s*\|\s*RUNNING\s*\|\s*\|\s*\|\s*CONTAINER\s*\|\s*0\s*\|\s*node1\s*\|/);

    const info = await h.ok(["info", "web1"]);
    expect(info).toMatch(/^Name: web1$/m);
    expect(info).toMatch(/^Status: RUNNING$/m);
    expect(info).toMatch(/^Type: container$/m);
    expect(info).toMatch(/^Location: node1$/m);
    // Placement refusals come back as the command's error, before anything is created.
    expect(await h.fails(["init", "--empty", "huge", "-c", "limits.memory=1TiB"])).toMatch(/No cluster member can take instance "huge".*memory/);
    expect(await h.fails(["init", "--empty", "web1", "--target", "node2"])).toContain('Instance "web1" already exists');
    expect((await h.api("GET", "/1.0/instances")).length).toBe(2);
  });

  it("lxc stop, lxc move --target", async () => {
    await h.ok(["stop", "web1"]);
    expect(await rows(["web1"])).toEqual([["web1", "STOPPED", "node1"]]);
    await h.ok(["move", "web1", "--target", "node2"]);
    expect(await rows(["web1"])).toEqual([["web1", "STOPPED", "node2"]]);
    expect(await h.fails(["move", "web1", "--target", "node2"])).toContain('already on cluster member "node2"');
  });

  it("lxc config set / get / unset / show on an instance", async () => {
    await h.ok(["config", "set", "web1", "limits.cpu", "2"]);
    await h.ok(["config", "set", "web1", "user.owner=ops"]);
    expect((await h.ok(["config", "get", "web1", "limits.cpu"])).trim()).toBe("2");
    const shown = YAML.parse(await h.ok(["config", "show", "web1"]));
    expect(shown).toMatchObject({ architecture: "x86_64", config: { "limits.cpu": "2", "user.owner": "ops" }, ephemeral: false, profiles: ["default"] });
    await h.ok(["config", "unset", "web1", "limits.cpu"]);
    expect(YAML.parse(await h.ok(["config", "show", "web1"])).config).toEqual({ "user.owner": "ops" });
    expect(await h.fails(["config", "set", "web1", "limits.cpu", "lots"])).toContain('config["limits.cpu"] must be a positive number');
    expect(await h.fails(["config", "set", "web1", "boot.teleport", "1"])).toContain("Unknown instance configuration key");
  });

  it("lxc config set / get / unset / show on the server", async () => {
    await h.ok(["config", "set", "scheduler.strategy", "spread"]);
    expect((await h.ok(["config", "get", "scheduler.strategy"])).trim()).toBe("spread");
    expect(YAML.parse(await h.ok(["config", "show"])).config).toEqual({ "cluster.offline_threshold": "3600", "scheduler.strategy": "spread" });
    await h.ok(["config", "unset", "scheduler.strategy"]);
    expect(YAML.parse(await h.ok(["config", "show"])).config).toEqual({ "cluster.offline_threshold": "3600" });
    expect(await h.fails(["config", "set", "scheduler.strategy", "random"])).toContain("count, spread, pack");
    expect(await h.fails(["config", "set", "core.https_address", ":8443"])).toContain('Unknown configuration key "core.https_address"');
  });

  it("lxc delete refuses a running instance; lxc delete --force stops and deletes it", async () => {
    await h.ok(["start", "web1"]);
    expect(await h.fails(["delete", "web1"])).toContain("The instance is currently running, stop it first or pass --force");
    await h.ok(["delete", "--force", "web1"]);
    expect(await rows([], "n")).toEqual([["db1"]]);
    expect(await h.fails(["delete", "web1"])).toContain('Instance "web1" not found');
  });

  it("lxc cluster evacuate / restore", async () => {
    await h.ok(["init", "--empty", "app1", "--target", "node1"]);
    await h.ok(["start", "app1"]);
    await h.ok(["cluster", "evacuate", "node1", "--force"]);
    expect(await h.ok(["cluster", "list"])).toMatch(/\|\s*node1\s*\|.*\|\s*EVACUATED\s*\|\s*Unavailable due to maintenance\s*\|/);
    const [moved] = await rows(["app1"]);
    expect(moved[1]).toBe("RUNNING");
    expect(moved[2]).not.toBe("node1");
    expect(await h.fails(["init", "--empty", "late", "--target", "node1"])).toContain("Evacuated");
    await h.ok(["cluster", "restore", "node1", "--force"]);
    expect(await h.ok(["cluster", "list"])).toMatch(/\|\s*node1\s*\|.*\|\s*ONLINE\s*\|\s*Fully operational\s*\|/);
    expect(await rows(["app1"])).toEqual([["app1", "RUNNING", "node1"]]);
  });

  it("lxc cluster remove (--force): a member without instances goes, one with instances stays", async () => {
    await h.api("POST", "/1.0/cluster/members", { server_name: "spare" }); // never heartbeated: Pending
    expect(await h.ok(["cluster", "list"])).toMatch(/\|\s*spare\s*\|.*\|\s*PENDING\s*\|/);
    await h.ok(["cluster", "remove", "spare", "--force", "--yes"]);
    expect(await h.ok(["cluster", "list"])).not.toContain("spare");
    expect(await h.fails(["cluster", "remove", "node1", "--force", "--yes"])).toMatch(/still hosts 1 instance\(s\): default\/app1/);
  });

  it("lxc operation list", async () => {
    const table = await h.ok(["operation", "list"]);
    expect(table).toMatch(/\|\s*ID\s*\|\s*TYPE\s*\|\s*DESCRIPTION\s*\|\s*STATUS\s*\|\s*CANCELABLE\s*\|\s*CREATED\s*\|\s*LOCATION\s*\|/);
    expect(table).toMatch(/\|\s*[0-9a-f-]{36}\s*\|\s*TASK\s*\|\s*Creating instance\s*\|\s*SUCCESS\s*\|\s*NO\s*\|/);
    expect(table).toMatch(/\|\s*Evacuating cluster member "node1"\s*\|\s*SUCCESS\s*\|/);
    expect(table).toMatch(/\|\s*Deleting instance\s*\|\s*SUCCESS\s*\|/);
  });

  it("lxc monitor prints the events as they happen", async () => {
    const monitor = h.spawn(["monitor", "--type", "lifecycle"]);
    try {
      // The monitor connects in the background: make events until it shows one (a few at most).
      let seen = "";
      for (let i = 0; i < 50 && !seen; i++) {
        await h.api("POST", "/1.0/cluster/groups", { name: `mon${i}` });
        await new Promise((r) => setTimeout(r, 100));
        if (monitor.stdout.includes("cluster-group-created")) seen = `mon${i}`;
      }
      expect(seen).not.toBe("");
      await h.ok(["init", "--empty", "watched", "--target", "node2"]);
      for (let i = 0; i < 50 && !monitor.stdout.includes("instance-created"); i++) await new Promise((r) => setTimeout(r, 100));
      const events = monitor.stdout.trim().split(/\n\n+/).map((block) => YAML.parse(block));
      expect(events).toContainEqual(expect.objectContaining({
        type: "lifecycle", location: expect.any(String), metadata: { action: "cluster-group-created", source: `/1.0/cluster/groups/${seen}`, context: {} },
      }));
      expect(events).toContainEqual(expect.objectContaining({
        type: "lifecycle", project: "default", metadata: { action: "instance-created", source: "/1.0/instances/watched", context: { location: "node2" } },
      }));
      expect(events.every((e) => e.type === "lifecycle")).toBe(true);
    } finally {
      monitor.stop();
    }
  });

  it("lxc query (--wait)", async () => {
    const op = JSON.parse(await h.ok(["query", "--wait", "-X", "PUT", "/1.0/instances/watched/state", "--data", '{"action": "start"}']));
    expect(op).toMatchObject({ class: "task", description: "Starting instance", status: "Success", status_code: 200, resources: { instances: ["/1.0/instances/watched"] } });
    expect(JSON.parse(await h.ok(["query", "/1.0/instances/watched"]))).toMatchObject({ name: "watched", status: "Running", status_code: 103, location: "node2" });
    expect(await h.fails(["query", "/1.0/instances/ghost"])).toContain('Instance "ghost" not found');
  });
});
