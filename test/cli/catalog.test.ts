import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { startCliHarness, type CliHarness } from "./cliHarness.ts";

let h: CliHarness;
beforeAll(async () => { h = await startCliHarness(); });
afterAll(async () => { await h.close(); });

describe("berth storage", () => {
  it("creates, lists, shows and deletes pools; refuses an unknown driver with the server's message", async () => {
    expect(await h.ok(["storage", "create", "shared", "ceph", "--description", "Ceph RBD"])).toContain("Storage pool shared created");
    await h.api("POST", "/1.0/storage-pools", { name: "local", driver: "zfs" });
    expect(await h.api("GET", "/1.0/storage-pools/shared")).toMatchObject({ name: "shared", driver: "ceph", description: "Ceph RBD" });

    const [table, yaml, bad] = await Promise.all([
      h.ok(["storage", "list"]),
      h.ok(["storage", "show", "local", "--format", "yaml"]),
      h.run(["storage", "create", "odd", "floppy"]),
    ]);
    expect(table).toMatch(/shared\s*│\s*ceph\s*│\s*yes\s*│\s*Ceph RBD/);
    expect(table).toMatch(/local\s*│\s*zfs\s*│\s*no/);
    expect(YAML.parse(yaml)).toEqual(await h.api("GET", "/1.0/storage-pools/local"));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^Error: driver must be one of .*floppy/);

    expect(await h.ok(["storage", "delete", "local"])).toContain("Storage pool local deleted");
    expect((await h.api("GET", "/1.0/storage-pools?recursion=1")).map((p: { name: string }) => p.name)).toEqual(["shared"]);
  });
});

describe("berth project", () => {
  it("creates with config, lists, shows, sets, unsets and deletes projects", async () => {
    await h.api("POST", "/1.0/cluster/groups", { name: "gpu" });
    expect(await h.ok(["project", "create", "ml", "-c", "restricted.cluster.groups=gpu", "-c", "user.team=ml", "--description", "ML"])).toContain(
      "Project ml created",
    );
    expect(await h.api("GET", "/1.0/projects/ml")).toEqual({
      name: "ml", description: "ML", config: { "restricted.cluster.groups": "gpu", "user.team": "ml" }, used_by: [],
    });
    expect(await h.ok(["project", "list"])).toMatch(/ml\s*│\s*ML\s*│\s*restricted\.cluster\.groups=gpu, user\.team=ml/);

    await h.ok(["project", "set", "ml", "user.team=research", "user.cost=42"]);
    await h.ok(["project", "unset", "ml", "restricted.cluster.groups"]);
    const shown = JSON.parse(await h.ok(["project", "show", "ml", "--format", "json"]));
    expect(shown).toEqual({ name: "ml", description: "ML", config: { "user.team": "research", "user.cost": "42" }, used_by: [] });

    const bad = await h.run(["project", "set", "ml", "restricted.cluster.groups=nosuchgroup"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^Error: .*nosuchgroup/);

    expect(await h.ok(["project", "delete", "ml"])).toContain("Project ml deleted");
    expect(await h.api("GET", "/1.0/projects")).toEqual(["/1.0/projects/default"]);
  });
});
