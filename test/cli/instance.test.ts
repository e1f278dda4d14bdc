import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { startCliHarness, type CliHarness } from "./cliHarness.ts";

let h: CliHarness;
beforeAll(async () => {
  h = await startCliHarness();
  // Set up through the API (the cluster commands have their own tests); members stay Online for the whole file.
  await h.api("PATCH", "/1.0", { config: { "cluster.offline_threshold": 3600 } });
  await h.api("POST", "/1.0/storage-pools", { name: "default", driver: "dir" });
  await h.api("POST", "/1.0/projects", { name: "p1" });
  await h.api("POST", "/1.0/cluster/members", {
    server_name: "n1",
    resources: { cpu: { total: 8 }, memory: { total: 16 * 1024 ** 3 }, storage: { pools: { default: { total: 100 * 1024 ** 3 } } } },
  });
  await h.api("POST", "/1.0/cluster/members/n1/heartbeat", {});
});
afterAll(async () => { await h.close(); });

describe("berth instance", () => {
  it("creates on a target with resources and devices, lists, shows, configures and deletes", async () => {
    const created = await h.ok([
      "instance", "create", "web1", "--target", "n1", "--type", "virtual-machine", "--cpu", "2", "--memory", "2GiB",
      "--disk", "10GiB", "--pool", "default", "-c", "user.app=web", "-c", "cluster.evacuate=stop",
      "--device", "data,type=disk,pool=default,path=/data", "--description", "front end",
    ]);
    expect(created).toBe("Instance web1 created on n1\n");
    const web1 = await h.api("GET", "/1.0/instances/web1");
    expect(web1).toMatchObject({
      type: "virtual-machine", location: "n1", status: "Stopped", description: "front end",
      config: { "limits.cpu": "2", "limits.memory": "2GiB", "user.app": "web", "cluster.evacuate": "stop" },
      devices: {
        root: { type: "disk", path: "/", pool: "default", size: "10GiB" },
        data: { type: "disk", pool: "default", path: "/data" },
      },
    });

    expect(await h.ok(["instance", "create", "web2", "--target", "n1", "--project", "p1", "--start"])).toBe(
      "Instance web2 created on n1 and started\n",
    );
    expect((await h.api("GET", "/1.0/instances/web2?project=p1")).status).toBe("Running");
    // Without --target, or with a group, the scheduler places it (n1 is the only Online member).
    const placed = await Promise.all([h.ok(["instance", "create", "auto1"]), h.ok(["instance", "create", "auto2", "--target", "@default"])]);
    expect(placed).toEqual(["Instance auto1 created on n1\n", "Instance auto2 created on n1\n"]);
    expect((await h.api("GET", "/1.0/instances/auto2")).location).toBe("n1");
    await h.api("DELETE", "/1.0/instances/auto1");
    await h.api("DELETE", "/1.0/instances/auto2");

    const [table, all, inP1, shown] = await Promise.all([
      h.ok(["instance", "list"]),
      h.ok(["instance", "list", "--all-projects", "--format", "json"]),
      h.ok(["--format", "yaml", "instance", "list", "--project", "p1"]),
      h.ok(["instance", "show", "web1", "--format", "json"]),
    ]);
    expect(table).toMatch(/web1\s*│\s*Stopped\s*│\s*VIRTUAL-MACHINE\s*│\s*n1\s*│\s*2\s*│\s*2GiB/);
    expect(table).not.toContain("web2");
    expect(JSON.parse(all).map((i: { project: string; name: string }) => `${i.project}/${i.name}`).sort()).toEqual(["default/web1", "p1/web2"]);
    expect(YAML.parse(inP1)).toEqual([await h.api("GET", "/1.0/instances/web2?project=p1")]);
    expect(JSON.parse(shown)).toEqual(web1);

    // Different keys of one instance, and a refused delete, at once.
    const [, , unknownKey, running] = await Promise.all([
      h.ok(["instance", "config", "set", "web1", "limits.cpu=4", "user.owner=ops"]),
      h.ok(["instance", "config", "unset", "web1", "user.app"]),
      h.run(["instance", "config", "set", "web1", "colour=red"]),
      h.run(["instance", "delete", "web2", "--project", "p1"]),
    ]);
    expect((await h.api("GET", "/1.0/instances/web1")).config).toEqual({
      "limits.cpu": "4", "limits.memory": "2GiB", "cluster.evacuate": "stop", "user.owner": "ops",
    });
    expect(unknownKey.code).toBe(1);
    expect(unknownKey.stderr).toContain('Error: Unknown instance configuration key config["colour"]');
    expect(running.code).toBe(1);
    // The CLI's flag, not the API's parameter (force=true).
    expect(running.stderr).toBe("Error: Instance web2 is running; stop it first (berth instance stop web2 --project p1) or delete it with --force\n");
    expect(await h.ok(["instance", "delete", "web2", "--project", "p1", "--force"])).toContain("Instance web2 deleted");
    await h.ok(["instance", "delete", "web1"]);
    expect(await h.api("GET", "/1.0/instances?all-projects=true")).toEqual([]);
  });

  it("start, stop and restart wait for the operation and report its failure", async () => {
    await h.api("POST", "/1.0/instances?target=n1", { name: "s1" });
    expect(await h.ok(["instance", "start", "s1"])).toBe("Instance s1 started (Running)\n");
    expect((await h.api("GET", "/1.0/instances/s1")).status).toBe("Running");
    expect(await h.ok(["instance", "stop", "s1", "--force"])).toBe("Instance s1 stopped (Stopped)\n");
    expect((await h.api("GET", "/1.0/instances/s1")).status).toBe("Stopped");
    const restarted = JSON.parse(await h.ok(["instance", "restart", "s1", "--format", "json"]));
    expect(restarted).toMatchObject({ status: "Success", metadata: { status: "Running" } });

    // A member that fails to stop the instance: the operation fails and the CLI says why.
    h.executor.failing((a) => a.kind === "stop", () => "member n1 did not answer the stop request");
    try {
      const failed = await h.run(["instance", "stop", "s1"]);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toBe("Error: member n1 did not answer the stop request\n");
      expect(failed.stdout).toBe("");
    } finally {
      h.executor.failing(null);
    }
    expect((await h.api("GET", "/1.0/instances/s1")).status).toBe("Running");
  });

  it("refuses bad input before or at the server, naming the problem", async () => {
    await h.api("POST", "/1.0/cluster/members", { server_name: "pending1" });
    await h.api("POST", "/1.0/instances?target=n1", { name: "taken" });
    const cases: [string[], string][] = [
      [["x1", "--target", "pending1"], "pending1"],
      [["taken", "--target", "n1"], 'Error: Instance "taken" already exists in project "default"'],
      [["x2", "--target", "n1", "--memory", "lots"], '--memory must be a size such as 512MiB, 2GiB or 100GB, got "lots"'],
      [["x2", "--target", "n1", "--pool", "nosuchpool"], 'storage pool "nosuchpool" does not exist'],
    ];
    const [both, ...results] = await Promise.all([
      h.run(["instance", "list", "--project", "p1", "--all-projects"]),
      ...cases.map(([args]) => h.run(["instance", "create", ...args])),
    ]);
    cases.forEach(([args, message], i) => {
      expect(results[i].code, args.join(" ")).toBe(1);
      expect(results[i].stderr, args.join(" ")).toMatch(/^Error: /);
      expect(results[i].stderr, args.join(" ")).toContain(message);
    });
    expect(both.code).toBe(1);
    expect(both.stderr).toContain("either --project or --all-projects");
    const names = (await h.api("GET", "/1.0/instances?all-projects=true&recursion=1")).map((i: { name: string }) => i.name);
    expect(names.sort()).toEqual(["s1", "taken"]);
  });
});
