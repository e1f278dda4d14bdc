import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeHarness, type Harness } from "../support/harness.ts";

let h: Harness;
beforeEach(async () => { h = await makeHarness(); });
afterEach(async () => { await h.close(); });

describe("/1.0/storage-pools", () => {
  it("creates, lists, shows, updates and deletes pools; validates drivers", async () => {
    const r = await h.request("POST", "/1.0/storage-pools", { name: "fast", driver: "zfs", config: { "user.tier": "1" } });
    expect(r.status).toBe(201);
    expect(r.body.metadata).toEqual({
      name: "fast", driver: "zfs", description: "", config: { "user.tier": "1" }, status: "Created", locations: [], used_by: [],
    });
    expect((await h.request("GET", "/1.0/storage-pools")).body.metadata).toEqual(["/1.0/storage-pools/fast"]);
    const bad = await h.request("POST", "/1.0/storage-pools", { name: "x", driver: "floppy" });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain("floppy");
    expect((await h.request("POST", "/1.0/storage-pools", { name: "fast", driver: "dir" })).status).toBe(409);
    const patched = await h.request("PATCH", "/1.0/storage-pools/fast", { description: "NVMe" });
    expect(patched.body.metadata.description).toBe("NVMe");
    expect((await h.request("PATCH", "/1.0/storage-pools/fast", { driver: "dir" })).status).toBe(400);
    expect((await h.request("DELETE", "/1.0/storage-pools/fast")).status).toBe(200);
    expect((await h.request("GET", "/1.0/storage-pools/fast")).status).toBe(404);
  });

  it("refuses deleting a pool an instance uses", async () => {
    await h.addMember("n1");
    await h.request("POST", "/1.0/storage-pools", { name: "ceph", driver: "ceph" });
    await h.createInstance({ name: "db", devices: { root: { type: "disk", path: "/", pool: "ceph", size: "10GiB" } } }, "target=n1");
    const del = await h.request("DELETE", "/1.0/storage-pools/ceph");
    expect(del.status).toBe(409);
    expect(del.body.error).toContain("default/db");
    // LXD's used_by names the instance; a created pool is on every member; it holds no volumes.
    expect((await h.request("GET", "/1.0/storage-pools/ceph")).body.metadata).toMatchObject({
      status: "Created", locations: ["n1"], used_by: ["/1.0/instances/db"],
    });
    expect((await h.request("GET", "/1.0/storage-pools/ceph/volumes")).body.metadata).toEqual([]);
    expect((await h.request("GET", "/1.0/storage-pools/ceph/volumes?recursion=1")).body.metadata).toEqual([]);
    expect((await h.request("GET", "/1.0/storage-pools/nope/volumes")).status).toBe(404);
  });

  it("defines a pool member by member with ?target= (Pending), then creates it once every member has it, as an LXD cluster", async () => {
    await h.addMember("n1");
    await h.addMember("n2");
    const first = await h.request("POST", "/1.0/storage-pools?target=n1", { name: "local", driver: "zfs", config: { source: "/dev/sdb" } });
    expect(first.status).toBe(201);
    expect(first.body.metadata).toMatchObject({ name: "local", status: "Pending", locations: ["n1"] });
    expect((await h.request("POST", "/1.0/storage-pools?target=n1", { name: "local", driver: "zfs" })).body.error).toContain('already defined on member "n1"');
    expect((await h.request("POST", "/1.0/storage-pools?target=n2", { name: "local", driver: "dir" })).status).toBe(400);
    expect((await h.request("POST", "/1.0/storage-pools?target=ghost", { name: "local", driver: "zfs" })).status).toBe(404);
    // Not usable while pending, and not created while a member lacks it.
    const early = await h.request("POST", "/1.0/instances?target=n1", { name: "a", devices: { root: { type: "disk", path: "/", pool: "local" } } });
    expect(early.status).toBe(400);
    expect(early.body.error).toContain("pending");
    const missing = await h.request("POST", "/1.0/storage-pools", { name: "local", driver: "zfs" });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toContain("not defined on member(s) n2");

    expect((await h.request("POST", "/1.0/storage-pools?target=n2", { name: "local", driver: "zfs" })).body.metadata.locations).toEqual(["n1", "n2"]);
    const created = await h.request("POST", "/1.0/storage-pools", { name: "local", driver: "zfs", config: { "user.x": "1" } });
    expect(created.status).toBe(201);
    expect(created.body.metadata).toEqual({
      name: "local", driver: "zfs", description: "", config: { source: "/dev/sdb", "user.x": "1" }, status: "Created", locations: ["n1", "n2"], used_by: [],
    });
    expect((await h.request("POST", "/1.0/storage-pools", { name: "local", driver: "zfs" })).status).toBe(409);
    const listed = await h.request("GET", "/1.0/storage-pools?recursion=1&filter=status eq created");
    expect(listed.body.metadata.map((p: { name: string }) => p.name)).toEqual(["local"]);
  });
});

describe("/1.0/projects", () => {
  it("has default, creates projects with restrictions on existing groups only", async () => {
    expect((await h.request("GET", "/1.0/projects")).body.metadata).toEqual(["/1.0/projects/default"]);
    const bad = await h.request("POST", "/1.0/projects", { name: "team", config: { "restricted.cluster.groups": "nope" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain("nope");
    await h.request("POST", "/1.0/cluster/groups", { name: "gpu" });
    const r = await h.request("POST", "/1.0/projects", { name: "team", config: { "restricted.cluster.groups": "gpu" } });
    expect(r.status).toBe(201);
    const unknown = await h.request("PATCH", "/1.0/projects/team", { config: { "limits.pizza": "1" } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toContain("limits.pizza");
    expect((await h.request("DELETE", "/1.0/projects/default")).status).toBe(400);
  });

  it("refuses deleting a project with instances", async () => {
    await h.addMember("n1");
    await h.request("POST", "/1.0/projects", { name: "team" });
    await h.request("POST", "/1.0/instances?project=team&target=n1", { name: "a" });
    const del = await h.request("DELETE", "/1.0/projects/team");
    expect(del.status).toBe(409);
    // LXD's used_by (lxc project list counts it); a null config is "none", as Go clients send it.
    expect((await h.request("GET", "/1.0/projects/team")).body.metadata.used_by).toEqual(["/1.0/instances/a?project=team"]);
    expect((await h.request("POST", "/1.0/projects", { name: "empty", config: null, description: "" })).body.metadata).toEqual({
      name: "empty", description: "", config: {}, used_by: [],
    });
    expect((await h.run("DELETE", "/1.0/instances/a?project=team")).op?.status).toBe("Success");
    expect((await h.request("DELETE", "/1.0/projects/team")).status).toBe(200);
  });
});
