import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeHarness, type Harness } from "../support/harness.ts";

let h: Harness;
beforeEach(async () => { h = await makeHarness(); });
afterEach(async () => { await h.close(); });

describe("/1.0/storage-pools", () => {
  it("creates, lists, shows, updates and deletes pools; validates drivers", async () => {
    const r = await h.request("POST", "/1.0/storage-pools", { name: "fast", driver: "zfs", config: { "user.tier": "1" } });
    expect(r.status).toBe(201);
    expect(r.body.metadata).toEqual({ name: "fast", driver: "zfs", description: "", config: { "user.tier": "1" } });
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
    const created = await h.request("POST", "/1.0/instances?target=n1", {
      name: "db", devices: { root: { type: "disk", path: "/", pool: "ceph", size: "10GiB" } },
    });
    expect(created.status).toBe(201);
    const del = await h.request("DELETE", "/1.0/storage-pools/ceph");
    expect(del.status).toBe(409);
    expect(del.body.error).toContain("default/db");
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
    await h.request("DELETE", "/1.0/instances/a?project=team");
    expect((await h.request("DELETE", "/1.0/projects/team")).status).toBe(200);
  });
});
