import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeHarness, type Harness } from "../support/harness.ts";

let h: Harness;
let viewer: string;
let agent: string;
beforeEach(async () => {
  h = await makeHarness();
  await h.addMember("n1");
  await h.addMember("n2");
  viewer = (await h.request("POST", "/1.0/tokens", { role: "viewer", description: "dash" })).body.metadata.token;
  agent = (await h.request("POST", "/1.0/tokens", { role: "agent", member: "n1" })).body.metadata.token;
});
afterEach(async () => { await h.close(); });

describe("auth", () => {
  it("401 without a token or with a wrong one, for every route", async () => {
    for (const [method, path] of [["GET", "/1.0"], ["GET", "/1.0/cluster/members"], ["POST", "/1.0/instances"], ["GET", "/1.0/metrics"], ["GET", "/1.0/events"]]) {
      expect((await h.request(method, path, undefined, null)).status, path).toBe(401);
      expect((await h.request(method, path, undefined, "berth_nope")).status, path).toBe(401);
    }
    const r = await h.request("GET", "/1.0", undefined, null);
    expect(r.body).toMatchObject({ type: "error", error_code: 401 });
  });

  it("a viewer reads but may not write", async () => {
    expect((await h.request("GET", "/1.0/cluster/members", undefined, viewer)).status).toBe(200);
    expect((await h.request("GET", "/1.0/instances?all-projects=true", undefined, viewer)).status).toBe(200);
    for (const [method, path, body] of [
      ["POST", "/1.0/cluster/members", { server_name: "x" }],
      ["PATCH", "/1.0", { config: {} }],
      ["DELETE", "/1.0/cluster/members/n2", undefined],
      ["POST", "/1.0/tokens", { role: "admin" }],
      ["POST", "/1.0/cluster/members/n1/heartbeat", {}],
    ] as const) {
      const r = await h.request(method, path, body, viewer);
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.body.error).toContain("viewer");
    }
    expect((await h.request("GET", "/1.0/cluster/members/n2")).status).toBe(200);
  });

  it("an agent heartbeats only as its own member and reads only that member", async () => {
    expect((await h.request("POST", "/1.0/cluster/members/n1/heartbeat", {}, agent)).status).toBe(200);
    expect((await h.request("GET", "/1.0/cluster/members/n1", undefined, agent)).status).toBe(200);
    const other = await h.request("POST", "/1.0/cluster/members/n2/heartbeat", {}, agent);
    expect(other.status).toBe(403);
    expect(other.body.error).toContain('"n1"');
    expect((await h.request("GET", "/1.0/cluster/members", undefined, agent)).status).toBe(403);
    expect((await h.request("GET", "/1.0/instances", undefined, agent)).status).toBe(403);
    expect((await h.request("PATCH", "/1.0/cluster/members/n1", { description: "x" }, agent)).status).toBe(403);
  });

  it("tokens are listed without secrets and can be revoked", async () => {
    const list = await h.request("GET", "/1.0/tokens?recursion=1");
    expect(list.body.metadata.map((t: any) => t.role).sort()).toEqual(["admin", "agent", "viewer"]);
    expect(JSON.stringify(list.body.metadata)).not.toContain(viewer);
    expect(list.body.metadata.find((t: any) => t.role === "agent").member).toBe("n1");
    const id = list.body.metadata.find((t: any) => t.role === "viewer").id;
    expect((await h.request("DELETE", `/1.0/tokens/${id}`)).status).toBe(200);
    expect((await h.request("GET", "/1.0", undefined, viewer)).status).toBe(401);
    expect((await h.request("DELETE", `/1.0/tokens/${id}`)).status).toBe(404);
  });

  it("validates token requests", async () => {
    const cases: [unknown, string][] = [
      [{ role: "root" }, "role"],
      [{ role: "agent" }, "member"],
      [{ role: "agent", member: "ghost" }, "ghost"],
      [{ role: "viewer", member: "n1" }, "member"],
    ];
    for (const [body, word] of cases) {
      const r = await h.request("POST", "/1.0/tokens", body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error).toContain(word);
    }
  });

  it("stores only hashes", async () => {
    const rows = (await h.berth.services.store.dumpTable("tokens")) as { hash: string }[];
    expect(rows.some((r) => r.hash === viewer)).toBe(false);
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.hash))).toBe(true);
  });
});
