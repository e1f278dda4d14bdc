import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeHarness, type Harness } from "../support/harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
  await h.addMember("n1");
  await h.addMember("n2");
});
afterEach(async () => { await h.close(); });

describe("/1.0/cluster/groups", () => {
  it("lists default with every member, creates groups with members, shows and updates them", async () => {
    const list = await h.request("GET", "/1.0/cluster/groups?recursion=1");
    expect(list.body.metadata).toEqual([{ name: "default", description: "Default cluster group", members: ["n1", "n2"] }]);
    const created = await h.request("POST", "/1.0/cluster/groups", { name: "gpu", description: "GPU nodes", members: ["n2"] });
    expect(created.status).toBe(201);
    expect(created.body.metadata).toEqual({ name: "gpu", description: "GPU nodes", members: ["n2"] });
    expect((await h.request("GET", "/1.0/cluster/members/n2")).body.metadata.groups).toEqual(["default", "gpu"]);
    const patched = await h.request("PATCH", "/1.0/cluster/groups/gpu", { members: ["n1", "n2"] });
    expect(patched.body.metadata.members).toEqual(["n1", "n2"]);
    const put = await h.request("PUT", "/1.0/cluster/groups/gpu", { description: "x", members: ["n1"] });
    expect(put.body.metadata).toEqual({ name: "gpu", description: "x", members: ["n1"] });
    expect((await h.request("GET", "/1.0/cluster/groups")).body.metadata).toEqual(["/1.0/cluster/groups/default", "/1.0/cluster/groups/gpu"]);
  });

  it("refuses deleting default, duplicates, unknown members, and leaving a member in no group", async () => {
    const del = await h.request("DELETE", "/1.0/cluster/groups/default");
    expect(del.status).toBe(400);
    expect(del.body.error).toContain("default");
    await h.request("POST", "/1.0/cluster/groups", { name: "rack1", members: ["n1"] });
    expect((await h.request("POST", "/1.0/cluster/groups", { name: "rack1" })).status).toBe(409);
    const unknown = await h.request("POST", "/1.0/cluster/groups", { name: "g2", members: ["ghost"] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toContain("ghost");
    expect((await h.request("GET", "/1.0/cluster/groups/g2")).status).toBe(404);

    // n1 leaves default: rack1 is now its only group, so rack1 cannot be deleted or emptied.
    const leave = await h.request("PATCH", "/1.0/cluster/groups/default", { members: ["n2"] });
    expect(leave.status).toBe(200);
    const orphan = await h.request("DELETE", "/1.0/cluster/groups/rack1");
    expect(orphan.status).toBe(409);
    expect(orphan.body.error).toContain('only group of member "n1"');
    expect((await h.request("PATCH", "/1.0/cluster/groups/rack1", { members: [] })).status).toBe(409);
    expect((await h.request("GET", "/1.0/cluster/groups/rack1")).body.metadata.members).toEqual(["n1"]);
    // Once n1 is back in default, rack1 can go.
    await h.request("PATCH", "/1.0/cluster/groups/default", { members: ["n1", "n2"] });
    expect((await h.request("DELETE", "/1.0/cluster/groups/rack1")).status).toBe(200);
    expect((await h.request("GET", "/1.0/cluster/members/n1")).body.metadata.groups).toEqual(["default"]);
  });

  it("a member's groups can be set on the member itself, never to none", async () => {
    await h.request("POST", "/1.0/cluster/groups", { name: "gpu" });
    const r = await h.request("PATCH", "/1.0/cluster/members/n1", { groups: ["gpu"] });
    expect(r.body.metadata.groups).toEqual(["gpu"]);
    const none = await h.request("PATCH", "/1.0/cluster/members/n1", { groups: [] });
    expect(none.status).toBe(400);
    expect(none.body.error).toContain("at least one");
  });
});
