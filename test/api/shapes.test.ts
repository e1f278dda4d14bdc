/**
 * LXD's API shapes where Berth differed (issue 13, point 11): the tokens collection lists URLs
 * (objects with ?recursion=1) and has a member endpoint, a sync answer's status_code is its HTTP
 * status, server config values are strings, and a method a path does not have is 405, not 404.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeHarness, type Harness } from "../support/harness.ts";

let h: Harness;
beforeEach(async () => { h = await makeHarness(); });
afterEach(async () => { await h.close(); });

describe("tokens", () => {
  it("are listed as URLs, as objects with ?recursion=1, and shown one by one, never with a secret", async () => {
    const created = await h.request("POST", "/1.0/tokens", { role: "viewer", description: "dashboard" });
    expect(created.status).toBe(201);
    const { id, token: secret } = created.body.metadata;
    const urls = (await h.request("GET", "/1.0/tokens")).body.metadata;
    expect(urls).toContain(`/1.0/tokens/${id}`);
    expect(urls.every((u: unknown) => typeof u === "string" && u.startsWith("/1.0/tokens/"))).toBe(true);
    const objects = (await h.request("GET", "/1.0/tokens?recursion=1")).body.metadata;
    expect(objects.find((t: any) => t.id === id)).toMatchObject({ role: "viewer", description: "dashboard", member: null });
    const one = await h.request("GET", `/1.0/tokens/${id}`, undefined, secret); // a viewer may look
    expect(one.status).toBe(200);
    expect(one.body.metadata).toMatchObject({ id, role: "viewer", description: "dashboard" });
    expect(JSON.stringify([urls, objects, one.body])).not.toContain(secret);
    const missing = await h.request("GET", "/1.0/tokens/no-such-token");
    expect(missing.status).toBe(404);
    expect(missing.body.error).toContain('"no-such-token"');
  });
});

describe("the envelope", () => {
  it("a sync answer's status_code is its HTTP status", async () => {
    const created = await h.request("POST", "/1.0/cluster/members", { server_name: "n1" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ type: "sync", status: "Success", status_code: 201 });
    const read = await h.request("GET", "/1.0/cluster/members/n1");
    expect(read.body).toMatchObject({ type: "sync", status_code: 200 });
  });
});

describe("server config", () => {
  it("comes back as strings, as LXD's does, whether it was sent as a number or a string", async () => {
    const patched = await h.request("PATCH", "/1.0", { config: { "cluster.offline_threshold": 30, "scheduler.cpu_allocation_ratio": "2.5" } });
    expect(patched.status).toBe(200);
    expect(patched.body.metadata).toMatchObject({ "cluster.offline_threshold": "30", "scheduler.cpu_allocation_ratio": "2.5" });
    const server = (await h.request("GET", "/1.0")).body.metadata;
    expect(server.config).toMatchObject({ "cluster.offline_threshold": "30", "scheduler.cpu_allocation_ratio": "2.5" });
    for (const value of Object.values(server.config)) expect(typeof value).toBe("string");
    for (const value of Object.values(server.effective_config)) expect(typeof value).toBe("string");
    expect(server.effective_config["cluster.evacuate.max_parallel"]).toBe("4");
  });
});

describe("methods a path does not have", () => {
  it("answer 405 naming the allowed ones, with an Allow header; unknown paths stay 404", async () => {
    await h.request("POST", "/1.0/cluster/members", { server_name: "n1" });
    const cases: [string, string, string][] = [
      ["PUT", "/1.0/instances", "GET, POST"],
      ["DELETE", "/1.0/cluster/members", "GET, POST"],
      ["PUT", "/1.0/tokens", "GET, POST"],
      ["POST", "/1.0/operations", "GET"],
      ["PATCH", "/1.0/operations/some-id", "DELETE, GET"],
      ["DELETE", "/1.0", "GET, PATCH, PUT"],
    ];
    for (const [method, path, allowed] of cases) {
      const res = await h.berth.app.request(path, { method, headers: { authorization: "Bearer test-admin-token" } });
      const body = await res.json() as { type: string; error_code: number; error: string };
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get("allow"), `${method} ${path}`).toBe(allowed);
      expect(body).toMatchObject({ type: "error", error_code: 405 });
      expect(body.error).toBe(`Method ${method} is not allowed on ${path} (allowed: ${allowed})`);
    }
    expect((await h.request("PUT", "/1.0/nothing-here")).status).toBe(404);
    expect((await h.request("GET", "/1.0/instances/ghost")).status).toBe(404);
  });
});
