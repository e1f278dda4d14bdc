/**
 * The bad-input matrix: a few hundred random and malformed bodies to every write endpoint.
 * No answer may be a 5xx, and a rejected request must leave the database exactly as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeHarness, type Harness } from "../support/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
  await h.addMember("n1");
  await h.request("POST", "/1.0/cluster/groups", { name: "g1", members: ["n1"] });
  await h.request("POST", "/1.0/storage-pools", { name: "p1", driver: "dir" });
  await h.request("POST", "/1.0/projects", { name: "team" });
  await h.request("POST", "/1.0/instances?target=n1", { name: "i1", config: { "limits.cpu": "1" } });
});
afterAll(async () => { await h.close(); });

/** A deterministic PRNG so a failure can be replayed. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WEIRD: unknown[] = [
  null, true, false, 0, -1, 1e308, -0.5, NaN, "", " ", "a b", "a/b", "../etc", "x".repeat(5000), "\u0000", "☃", "@", [], [1, "a"],
  {}, { a: { b: { c: {} } } }, "2GiB", "-5", "1e3", { "limits.cpu": 2 }, ["default"], { root: { type: "disk" } },
];

function randomValue(r: () => number, depth = 0): unknown {
  const pick = r();
  if (pick < 0.5 || depth > 3) return WEIRD[Math.floor(r() * WEIRD.length)];
  if (pick < 0.75) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  const obj: Record<string, unknown> = {};
  for (let i = 0; i < Math.floor(r() * 4); i++) obj[String(WEIRD[Math.floor(r() * 8) + 6] ?? `k${i}`)] = randomValue(r, depth + 1);
  return obj;
}

/** Mutates a valid body: drop, retype or add fields, or replace the whole thing. */
function mutate(valid: Record<string, unknown>, r: () => number): unknown {
  const roll = r();
  if (roll < 0.1) return randomValue(r);
  const body: Record<string, unknown> = structuredClone(valid);
  const keys = Object.keys(body);
  const n = 1 + Math.floor(r() * 2);
  for (let i = 0; i < n; i++) {
    const what = r();
    const key = keys[Math.floor(r() * keys.length)];
    if (what < 0.5 && key) body[key] = randomValue(r);
    else if (what < 0.7 && key) delete body[key];
    else if (what < 0.85) body[`unknown_${Math.floor(r() * 100)}`] = randomValue(r);
    else if (key && typeof body[key] === "object" && body[key] !== null) {
      (body[key] as Record<string, unknown>)[String(randomValue(r))] = randomValue(r);
    }
  }
  return body;
}

const MALFORMED = ['{"name": ', "{name: 'x'}", "[", "nul", '{"a":1}}', "\u0000\u0001", '{"config": {"a": }}', "{".repeat(10000)];

interface Endpoint { method: string; path: string; valid: Record<string, unknown> }
const ENDPOINTS: Endpoint[] = [
  { method: "POST", path: "/1.0/cluster/members", valid: { server_name: "fz", architecture: "x86_64", groups: ["g1"], config: { "scheduler.instance": "all" }, resources: { cpu: { total: 4 }, memory: { total: 1000 } } } },
  { method: "PATCH", path: "/1.0/cluster/members/n1", valid: { description: "d", config: { "user.a": "b" }, groups: ["default", "g1"] } },
  { method: "PUT", path: "/1.0/cluster/members/n1", valid: { description: "d", failure_domain: "default", groups: ["default", "g1"] } },
  { method: "POST", path: "/1.0/cluster/members/n1/heartbeat", valid: { resources: { cpu: { total: 4 } }, state: { sysinfo: { uptime: 1 } } } },
  { method: "POST", path: "/1.0/cluster/groups", valid: { name: "fzg", description: "d", members: ["n1"] } },
  { method: "PATCH", path: "/1.0/cluster/groups/g1", valid: { description: "d", members: ["n1"] } },
  { method: "POST", path: "/1.0/storage-pools", valid: { name: "fzp", driver: "zfs", config: {} } },
  { method: "PATCH", path: "/1.0/storage-pools/p1", valid: { description: "d", config: { a: "b" } } },
  { method: "POST", path: "/1.0/projects", valid: { name: "fzproj", config: { "restricted.cluster.groups": "g1" } } },
  { method: "PATCH", path: "/1.0/projects/team", valid: { description: "d", config: { "user.x": "y" } } },
  { method: "POST", path: "/1.0/instances?target=n1", valid: { name: "fzi", type: "container", config: { "limits.cpu": "1", "limits.memory": "1GiB" }, devices: { root: { type: "disk", path: "/", pool: "p1", size: "1GiB" } } } },
  { method: "PATCH", path: "/1.0/instances/i1", valid: { config: { "limits.memory": "1GiB" }, description: "d" } },
  { method: "PUT", path: "/1.0/instances/i1", valid: { config: { "limits.cpu": "2" }, devices: {}, profiles: ["default"] } },
  { method: "PUT", path: "/1.0/instances/i1/state", valid: { action: "start", force: false } },
  { method: "PATCH", path: "/1.0", valid: { config: { "scheduler.strategy": "spread", "cluster.offline_threshold": 30 } } },
  { method: "PUT", path: "/1.0", valid: { config: { "cluster.evacuate.max_parallel": 2 } } },
  { method: "POST", path: "/1.0/tokens", valid: { role: "agent", member: "n1", description: "x" } },
];

/** Every table's rows, as text: equal text means nothing was written. */
async function snapshot(): Promise<string> {
  const tables = ["members", "cluster_groups", "group_members", "storage_pools", "projects", "instances", "server_config", "tokens"] as const;
  const rows = await Promise.all(tables.map((t) => h.berth.services.store.dumpTable(t)));
  return rows.map((r) => JSON.stringify(r)).join("\n");
}

describe("bad input", () => {
  it("answers every malformed or random body with a 4xx that says what is wrong, and writes nothing", async () => {
    const r = rng(20261122);
    let sent = 0;
    const statuses = new Map<number, number>();
    for (const endpoint of ENDPOINTS) {
      const bodies: unknown[] = [...MALFORMED];
      for (let i = 0; i < 30; i++) bodies.push(mutate(endpoint.valid, r));
      for (const body of bodies) {
        const before = await snapshot();
        const reply = await h.request(endpoint.method, endpoint.path, typeof body === "string" ? body : JSON.stringify(body));
        sent++;
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        const label = `${endpoint.method} ${endpoint.path} ${String(typeof body === "string" ? body : JSON.stringify(body)).slice(0, 200)}`;
        expect(reply.status, label).toBeLessThan(500);
        if (reply.status >= 400) {
          expect(reply.body.type, label).toBe("error");
          expect(reply.body.error.length, label).toBeGreaterThan(10);
          expect(await snapshot(), `partial write: ${label}`).toBe(before);
        } else {
          // Accepted mutations are fine; put created objects back out of the way.
          await h.request("DELETE", "/1.0/cluster/members/fz");
          await h.request("DELETE", "/1.0/cluster/groups/fzg");
          await h.request("DELETE", "/1.0/storage-pools/fzp");
          await h.request("DELETE", "/1.0/projects/fzproj");
          await h.run("DELETE", "/1.0/instances/fzi?force=true");
        }
      }
    }
    expect(sent).toBeGreaterThan(500);
    // Most random bodies are wrong; the run must have exercised rejections, not only successes.
    const rejected = [...statuses].filter(([s]) => s >= 400).reduce((a, [, n]) => a + n, 0);
    expect(rejected).toBeGreaterThan(sent * 0.6);
  }, 60_000);

  it("rejects oversized bodies with 413 and non-JSON content types with 415", async () => {
    const huge = JSON.stringify({ name: "big", description: "x".repeat(2 * 1024 * 1024) });
    const r = await h.request("POST", "/1.0/projects", huge);
    expect(r.status).toBe(413);
    expect(r.body.error).toContain("too large");
    const res = await h.berth.app.request("/1.0/projects", {
      method: "POST", headers: { authorization: "Bearer test-admin-token", "content-type": "text/plain" }, body: '{"name":"x"}',
    });
    expect(res.status).toBe(415);
  });

  it("names the field and the value in validation errors", async () => {
    const r = await h.request("POST", "/1.0/cluster/members", { server_name: "ok", resources: { cpu: { total: "many" } } });
    expect(r.status).toBe(400);
    expect(r.body.error).toContain("resources.cpu.total");
    const u = await h.request("POST", "/1.0/projects", { name: "p", colour: "blue" });
    expect(u.body.error).toContain('"colour"');
  });
});
