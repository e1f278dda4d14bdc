/**
 * Heartbeats on a listening server go through the fast path (src/api/heartbeatFastPath.ts) and must
 * answer exactly as the hono route does: each request here is sent to the real server and, the same,
 * to app.request (hono alone), and both answers are compared — success, refusals and bad input.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { getRequestListener } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/cli/serve.ts";

const ADMIN = "fast-path-admin";
let server: RunningServer;
let dir: string;
let agentN1: string;
let viewer: string;

interface Sent {
  status: number;
  body: any;
}

/** The request over TCP (fast path) and through app.request (hono), in that order. */
async function both(path: string, body: string | undefined, headers: Record<string, string>): Promise<[Sent, Sent]> {
  const init = { method: "POST", headers, body };
  const viaServer = await fetch(`${server.url}${path}`, init);
  const viaHono = await server.berth.app.request(path, init);
  return [
    { status: viaServer.status, body: await viaServer.json() },
    { status: viaHono.status, body: await viaHono.json() },
  ];
}

const json = (token: string) => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });

async function admin(method: string, path: string, body?: unknown) {
  const r = await fetch(`${server.url}${path}`, { method, headers: json(ADMIN), body: body === undefined ? undefined : JSON.stringify(body) });
  const parsed = (await r.json()) as { error: string; metadata: any };
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${parsed.error}`);
  return parsed.metadata;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "berth-fastpath-"));
  server = await startServer({ listen: "127.0.0.1:0", dataDir: dir, localMember: false, adminToken: ADMIN, logger: pino({ level: "silent" }), unix: false });
  for (const name of ["n1", "n2"]) await admin("POST", "/1.0/cluster/members", { server_name: name, resources: { cpu: { total: 8 }, memory: { total: 2 ** 34 } } });
  agentN1 = (await admin("POST", "/1.0/tokens", { role: "agent", member: "n1" })).token;
  viewer = (await admin("POST", "/1.0/tokens", { role: "viewer" })).token;
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("heartbeats through the fast path answer as the hono route", () => {
  it("a member's agent heartbeats with resources and the instances it observes", async () => {
    const beat = JSON.stringify({
      resources: { cpu: { total: 16 }, memory: { total: 2 ** 35, used: 2 ** 30 } }, agent: { driver: "none", version: "t" },
      instances: [{ name: "web", status: "Running" }],
    });
    const [fast, hono] = await both("/1.0/cluster/members/n1/heartbeat", beat, json(agentN1));
    expect(fast.status).toBe(200);
    expect(fast.body).toEqual(hono.body);
    expect(fast.body.metadata).toMatchObject({ status: "Online", offline_threshold: 20, heartbeat_interval: 5 });
    const member = await admin("GET", "/1.0/cluster/members/n1");
    expect(member.resources.cpu.total).toBe(16);
    expect(member.agent).toMatchObject({ driver: "none" });
  });

  it("an admin token heartbeats any member; an empty body is {}", async () => {
    const [fast, hono] = await both("/1.0/cluster/members/n2/heartbeat", undefined, { authorization: `Bearer ${ADMIN}` });
    expect(fast).toEqual(hono);
    expect(fast.status).toBe(200);
  });

  it.each([
    ["another member's agent", "/1.0/cluster/members/n2/heartbeat", "{}", () => json(agentN1), 403, /may only use its own member's paths/],
    ["a viewer", "/1.0/cluster/members/n1/heartbeat", "{}", () => json(viewer), 403, /viewer token may only read/],
    ["an unknown token", "/1.0/cluster/members/n1/heartbeat", "{}", () => json("nobody"), 401, /Invalid or revoked token/],
    ["no token", "/1.0/cluster/members/n1/heartbeat", "{}", () => ({ "content-type": "application/json" }), 401, /Missing bearer token/],
    ["malformed JSON", "/1.0/cluster/members/n1/heartbeat", "{\"resources\":", () => json(agentN1), 400, /Malformed JSON body/],
    ["an unknown field", "/1.0/cluster/members/n1/heartbeat", "{\"cpu\":1}", () => json(agentN1), 400, /unknown field\(s\) "cpu"/],
    ["a wrong status", "/1.0/cluster/members/n1/heartbeat", "{\"instances\":[{\"name\":\"a\",\"status\":\"Up\"}]}", () => json(agentN1), 400, /instances\[0\]\.status/],
    ["an unknown member", "/1.0/cluster/members/n9/heartbeat", "{}", () => json(ADMIN), 404, /n9/],
    ["another content type", "/1.0/cluster/members/n1/heartbeat", "{}", () => ({ ...json(agentN1), "content-type": "text/plain" }), 415, /Content-Type must be application\/json/],
  ])("refuses %s the same way", async (_what, path, body, headers, status, message) => {
    const [fast, hono] = await both(path, body, headers());
    expect(fast).toEqual(hono);
    expect(fast.status).toBe(status);
    expect(fast.body.error).toMatch(message);
  });

  it("heartbeats are counted in the metrics under their route", async () => {
    const before = await heartbeatCount();
    for (let i = 0; i < 3; i++) await fetch(`${server.url}/1.0/cluster/members/n1/heartbeat`, { method: "POST", headers: json(agentN1), body: "{}" });
    expect(await heartbeatCount()).toBe(before + 3);
  });
});

describe("what the fast path takes", () => {
  it("answers a plain heartbeat itself, hands a refused token to hono, and leaves anything else alone", async () => {
    const hono = getRequestListener(server.berth.app.fetch);
    const seen: string[] = [];
    const probe = createServer((req: IncomingMessage, res: ServerResponse) => {
      const took = server.berth.fastPath(req, res, (r, s) => {
        seen.push(`hono after fast path: ${r.url}`);
        void hono(r, s);
      });
      seen.push(`${took ? "taken" : "left"}: ${req.url}`);
      if (!took) void hono(req, res);
    });
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(probe.address() as { port: number }).port}`;
    try {
      const post = (path: string, token: string) => fetch(`${url}${path}`, { method: "POST", headers: json(token), body: "{}" }).then((r) => r.status);
      expect(await post("/1.0/cluster/members/n1/heartbeat", agentN1)).toBe(200);
      expect(await post("/1.0/cluster/members/n2/heartbeat", agentN1)).toBe(403);
      expect(await post("/1.0/cluster/members/n1/heartbeat?project=x", agentN1)).toBe(200);
      expect(await post("/1.0/cluster/members/n1/state", ADMIN)).toBe(400);
      expect(seen).toEqual([
        "taken: /1.0/cluster/members/n1/heartbeat",
        "taken: /1.0/cluster/members/n2/heartbeat",
        "hono after fast path: /1.0/cluster/members/n2/heartbeat",
        "left: /1.0/cluster/members/n1/heartbeat?project=x",
        "left: /1.0/cluster/members/n1/state",
      ]);
    } finally {
      probe.closeAllConnections();
      await new Promise((resolve) => probe.close(resolve));
    }
  });
});

async function heartbeatCount(): Promise<number> {
  const text = await (await fetch(`${server.url}/1.0/metrics`, { headers: json(ADMIN) })).text();
  const line = text.split("\n").find((l) => l.startsWith('berth_http_requests_total{method="POST",route="/1.0/cluster/members/:name/heartbeat",status="200"}'));
  return line ? Number(line.split(" ").pop()) : 0;
}
