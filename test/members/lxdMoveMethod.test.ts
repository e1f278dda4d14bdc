/**
 * How each instance would travel between two lxd members, as the dry-run evacuation plan shows it
 * over the API (docs/lxd.md): recreate (from its image) when it is stateless or its root disk is on
 * a remote pool, migrate otherwise — the root disk's pool judged by the driver the source member's
 * lxd agent reports for it in its heartbeats (LXD's own), Berth's pool list deciding only for a
 * pool the agent does not report.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeHarness, type Harness } from "../support/harness.ts";

const GiB = 1024 ** 3;
let h: Harness;

beforeEach(async () => {
  h = await makeHarness({ executor: (inner) => inner }); // the agent executor itself: it says how moves travel
});
afterEach(async () => {
  await h.close();
});

/** A heartbeat of an lxd agent reporting these pools (name → LXD driver). */
async function lxdHeartbeat(member: string, pools: Record<string, string>): Promise<void> {
  const r = await h.request("POST", `/1.0/cluster/members/${member}/heartbeat`, {
    agent: { driver: "lxd", version: "test" }, instances: [],
    resources: {
      cpu: { total: 8 }, memory: { total: 16 * GiB },
      storage: { pools: Object.fromEntries(Object.entries(pools).map(([name, driver]) => [name, { total: 100 * GiB, driver }])) },
    },
  });
  expect(r.status, r.body.error).toBe(200);
}

async function planMethods(member: string): Promise<Record<string, string>> {
  const r = await h.request("POST", `/1.0/cluster/members/${member}/state`, { action: "evacuate", dry_run: true });
  expect(r.status, r.body.error).toBe(200);
  return Object.fromEntries(r.body.metadata.instances.map((e: { name: string; action: string; method?: string }) => [e.name, `${e.action}/${e.method}`]));
}

const rootOn = (pool: string) => ({ root: { type: "disk", path: "/", pool } });

describe("migrate or recreate between lxd members", () => {
  it("judges the root disk's pool by the driver the source's agent reports, and Berth's pool list for pools it does not report", async () => {
    // What Berth was told about the pools, partly at odds with what LXD says on the hosts.
    for (const [name, driver] of [["default", "dir"], ["fast", "dir"], ["scratch", "ceph"], ["shared", "cephfs"]]) {
      expect((await h.request("POST", "/1.0/storage-pools", { name, driver })).status).toBe(201);
    }
    await h.addMember("m1");
    await h.addMember("m2");
    const lxdPools = { default: "dir", fast: "ceph", scratch: "dir" };
    await lxdHeartbeat("m1", lxdPools);
    await lxdHeartbeat("m2", lxdPools);

    await h.createInstance({ name: "on-fast", devices: rootOn("fast") }, "target=m1"); // LXD: ceph (Berth: dir)
    await h.createInstance({ name: "on-scratch", devices: rootOn("scratch") }, "target=m1"); // LXD: dir (Berth: ceph)
    await h.createInstance({ name: "on-shared", devices: rootOn("shared") }, "target=m1"); // not reported: Berth's cephfs
    await h.createInstance({ name: "on-default", devices: rootOn("default") }, "target=m1");
    await h.createInstance({ name: "stateless", config: { "berth.stateless": "true" }, devices: rootOn("default") }, "target=m1");
    await h.createInstance({ name: "from-profile" }, "target=m1"); // no root disk of its own: local

    expect(await planMethods("m1")).toEqual({
      "on-fast": "migrate/recreate",
      "on-scratch": "migrate/migrate",
      "on-shared": "migrate/recreate",
      "on-default": "migrate/migrate",
      stateless: "migrate/recreate",
      "from-profile": "migrate/migrate",
    });

    // The latest report decides: the host now says "fast" is a local pool.
    await lxdHeartbeat("m1", { ...lxdPools, fast: "zfs" });
    expect((await planMethods("m1"))["on-fast"]).toBe("migrate/migrate");
  });
});
