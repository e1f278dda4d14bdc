import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { startCliHarness, type CliHarness } from "./cliHarness.ts";

let h: CliHarness;
beforeAll(async () => { h = await startCliHarness(); });
afterAll(async () => { await h.close(); });

const GiB = 1024 ** 3;

describe("berth cluster", () => {
  it("adds a member with declared resources, heartbeats it, lists, shows and removes it", async () => {
    await h.ok(["cluster", "group", "create", "gpu"]);
    const added = await h.ok([
      "cluster", "add", "n1", "--arch", "aarch64", "--failure-domain", "rack1", "--group", "gpu",
      "--cpu", "16", "--memory", "32GiB", "--disk", "500GiB", "--pool", "fast", "--gpus", "2", "--description", "big box",
    ]);
    expect(added).toContain("Member n1 added (Pending");
    const member = await h.api("GET", "/1.0/cluster/members/n1");
    expect(member).toMatchObject({
      architecture: "aarch64", failure_domain: "rack1", description: "big box", groups: ["default", "gpu"], status: "Pending",
    });
    // 32GiB and 500GiB as bytes; the pool named by --pool holds the disk.
    expect(member.resources.cpu.total).toBe(16);
    expect(member.resources.memory.total).toBe(32 * GiB);
    expect(member.resources.storage.pools).toEqual({ fast: { total: 500 * GiB, used: 0 } });
    expect(member.resources.gpu.total).toBe(2);

    expect(await h.ok(["cluster", "heartbeat", "n1"])).toContain("Heartbeat recorded for n1: Online");
    expect((await h.api("GET", "/1.0/cluster/members/n1")).status).toBe("Online");

    const [table, json, yaml, shown] = await Promise.all([
      h.ok(["cluster", "list"]),
      h.ok(["cluster", "list", "--format", "json"]),
      h.ok(["--format", "yaml", "cluster", "show", "n1"]),
      h.ok(["cluster", "show", "n1"]),
    ]);
    expect(table).toMatch(/NAME.*ARCHITECTURE.*STATUS/);
    expect(table).toMatch(/n1\s*│\s*│\s*aarch64\s*│\s*rack1\s*│\s*default, gpu\s*│\s*16\s*│\s*32GiB\s*│\s*Online/);
    expect(JSON.parse(json)).toEqual(await h.api("GET", "/1.0/cluster/members?recursion=1"));
    expect(YAML.parse(yaml).server_name).toBe("n1");
    expect(YAML.parse(yaml).resources.memory.total).toBe(32 * GiB);
    expect(shown).toMatch(/failure_domain\s*│\s*rack1/);

    await h.api("POST", "/1.0/cluster/members", { server_name: "n2" });
    expect(await h.ok(["cluster", "remove", "n2"])).toContain("Member n2 removed");
    const names = (await h.api("GET", "/1.0/cluster/members?recursion=1")).map((m: { server_name: string }) => m.server_name);
    expect(names).toEqual(["n1"]);
  });

  it("reports the server's error and exits 1 (duplicate, unknown member); checks sizes before sending", async () => {
    await h.api("POST", "/1.0/cluster/members", { server_name: "dup" });
    const [dup, missing, badSize] = await Promise.all([
      h.run(["cluster", "add", "dup"]),
      h.run(["cluster", "show", "ghost"]),
      h.run(["cluster", "add", "n9", "--memory", "16 gigs"]),
    ]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toBe('Error: Cluster member "dup" already exists\n');
    expect(dup.stdout).toBe("");

    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Error: Cluster member "ghost" not found');

    expect(badSize.code).toBe(1);
    expect(badSize.stderr).toContain('--memory must be a size such as 512MiB, 2GiB or 100GB, got "16 gigs"');
    // Nothing was created by the failed command: the size is checked before anything is sent.
    expect((await h.api("GET", "/1.0/cluster/members")).filter((u: string) => u.endsWith("/n9"))).toEqual([]);
  });

  it("sets and unsets member config keys, keeping the member's other fields", async () => {
    await h.api("POST", "/1.0/cluster/members", { server_name: "cfg", failure_domain: "rack7", description: "keep me" });
    expect(await h.ok(["cluster", "set", "cfg", "scheduler.instance=manual", "user.rack=r7"])).toContain("Member cfg updated");
    expect((await h.api("GET", "/1.0/cluster/members/cfg")).config).toEqual({ "scheduler.instance": "manual", "user.rack": "r7" });

    await h.ok(["cluster", "unset", "cfg", "user.rack"]);
    const after = await h.api("GET", "/1.0/cluster/members/cfg");
    expect(after.config).toEqual({ "scheduler.instance": "manual" });
    expect(after).toMatchObject({ failure_domain: "rack7", description: "keep me", groups: ["default"] });

    const [bad, notSet] = await Promise.all([
      h.run(["cluster", "set", "cfg", "colour=blue"]),
      h.run(["cluster", "unset", "cfg", "user.nothing"]),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Error: Unknown member configuration key config["colour"]');
    expect(notSet.code).toBe(1);
    expect(notSet.stderr).toContain('has no config key "user.nothing"');
  });

  it("manages cluster groups: create, list, show, add, remove, assign, delete", async () => {
    await h.api("POST", "/1.0/cluster/members", { server_name: "g1" });
    await h.api("POST", "/1.0/cluster/members", { server_name: "g2" });
    expect(await h.ok(["cluster", "group", "create", "edge", "--description", "Edge sites"])).toContain("Cluster group edge created");
    expect(await h.ok(["cluster", "group", "list"])).toMatch(/edge\s*│\s*Edge sites\s*│\s*0/);

    expect(await h.ok(["cluster", "group", "add", "g1", "edge"])).toContain("Member g1 added to cluster group edge");
    expect((await h.api("GET", "/1.0/cluster/groups/edge")).members).toEqual(["g1"]);
    await h.api("PATCH", "/1.0/cluster/groups/edge", { members: ["g1", "g2"] });
    await h.ok(["cluster", "group", "remove", "g2", "edge"]);
    expect(JSON.parse(await h.ok(["cluster", "group", "show", "edge", "--format", "json"]))).toEqual({
      name: "edge", description: "Edge sites", members: ["g1"],
    });

    // assign sets the exact list: g2 leaves "default" and is only in "edge".
    expect(await h.ok(["cluster", "group", "assign", "g2", "edge"])).toContain("Member g2 is now in group(s) edge");
    expect((await h.api("GET", "/1.0/cluster/members/g2")).groups).toEqual(["edge"]);
    // Deleting the only group of g2 is refused by the server, with its reason.
    const refused = await h.run(["cluster", "group", "delete", "edge"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('is the only group of member "g2"');

    await h.api("PATCH", "/1.0/cluster/members/g2", { groups: ["default"] });
    expect(await h.ok(["cluster", "group", "delete", "edge"])).toContain("Cluster group edge deleted");
    const groups = (await h.api("GET", "/1.0/cluster/groups?recursion=1")).map((g: { name: string }) => g.name);
    expect(groups).not.toContain("edge");
  });
});
