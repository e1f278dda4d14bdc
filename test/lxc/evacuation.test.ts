/**
 * LXD's own test_clustering_evacuation (test/suites/clustering.sh, LXD 5.0.2), replayed with the
 * stock lxc client against Berth, step by step with its assertions. Adapted where Berth differs
 * from a cluster of LXD daemons:
 * - the three members are registered through Berth's API and kept alive by heartbeats (no daemons
 *   to spawn and join); the preseeded pool "data" is created with lxc storage create;
 * - `lxc launch testimage cN` becomes `lxc init --empty cN` + `lxc start cN` (Berth fetches no
 *   images), `lxc init testimage c5` becomes `lxc init --empty c5`;
 * - the storage volume step (lxc storage volume create pool1 vol1) is left out: Berth keeps no
 *   volumes; image, profile and daemon clean-up steps have nothing to clean here.
 * Each `grep -q` of the original is an expect on the same command's output.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWithLxc, startLxcHarness, type LxcHarness } from "./lxcHarness.ts";

let h: LxcHarness;

describeWithLxc("LXD's test_clustering_evacuation, replayed against Berth", () => {
  beforeAll(async () => {
    h = await startLxcHarness();
    await h.api("PATCH", "/1.0", { config: { "cluster.offline_threshold": 3600 } });
    for (const name of ["node1", "node2", "node3"]) await h.addMember(name);
    // The bootstrap's preseeded pool.
    await h.ok(["storage", "create", "data", "dir"]);
  }, 60_000);
  afterAll(async () => { await h?.close(); });

  const info = (name: string) => h.ok(["info", name]);

  it("replays the evacuation and restore of node1 with LXD's assertions", async () => {
    // The state of the preseeded storage pool shows up as CREATED
    expect(await h.ok(["storage", "list"])).toMatch(/\|\s*data\s*\|.*\|\s*CREATED\s*\|/);

    // Create local pool
    await h.ok(["storage", "create", "pool1", "dir", "--target", "node1"]);
    await h.ok(["storage", "create", "pool1", "dir", "--target", "node2"]);
    await h.ok(["storage", "create", "pool1", "dir", "--target", "node3"]);
    await h.ok(["storage", "create", "pool1", "dir"]);

    // lxc launch testimage c1 --target=node1 (and the rest): init --empty, then start.
    const launch = async (name: string, extra: string[]) => {
      await h.ok(["init", "--empty", name, ...extra]);
      await h.ok(["start", name]);
    };
    await launch("c1", ["--target=node1"]);
    await h.ok(["config", "set", "c1", "boot.host_shutdown_timeout=5"]);
    await launch("c2", ["--target=node1", "-c", "cluster.evacuate=auto", "-s", "pool1"]);
    await h.ok(["config", "set", "c2", "boot.host_shutdown_timeout=5"]);
    await launch("c3", ["--target=node1", "-c", "cluster.evacuate=stop"]);
    await h.ok(["config", "set", "c3", "boot.host_shutdown_timeout=5"]);
    await launch("c4", ["--target=node1", "-c", "cluster.evacuate=migrate", "-s", "pool1"]);
    await h.ok(["config", "set", "c4", "boot.host_shutdown_timeout=5"]);
    await h.ok(["init", "--empty", "c5", "--target=node1"]);
    await h.ok(["config", "set", "c5", "boot.host_shutdown_timeout=5"]);
    await launch("c6", ["--target=node2"]);
    await h.ok(["config", "set", "c6", "boot.host_shutdown_timeout=5"]);

    // For debugging
    const before = await h.ok(["list"]);
    expect(before.match(/RUNNING/g)).toHaveLength(5);

    // Evacuate first node
    await h.ok(["cluster", "evacuate", "node1", "--force"]);

    // Ensure the node is evacuated
    expect(await h.ok(["cluster", "show", "node1"])).toContain("status: Evacuated");

    // For debugging
    await h.ok(["list"]);

    // Check instance status
    expect(await info("c1")).toContain("Status: RUNNING");
    expect(await info("c1")).not.toContain("Location: node1");
    expect(await info("c2")).toContain("Status: RUNNING");
    expect(await info("c2")).not.toContain("Location: node1");
    expect(await info("c3")).toContain("Status: STOPPED");
    expect(await info("c3")).toContain("Location: node1");
    expect(await info("c4")).toContain("Status: RUNNING");
    expect(await info("c4")).not.toContain("Location: node1");
    expect(await info("c5")).toContain("Status: STOPPED");
    expect(await info("c5")).not.toContain("Location: node1");
    expect(await info("c6")).toContain("Status: RUNNING");
    expect(await info("c6")).toContain("Location: node2");

    // Ensure instances cannot be created on the evacuated node
    await h.fails(["init", "--empty", "c7", "--target=node1"]);

    // Restore first node
    await h.ok(["cluster", "restore", "node1", "--force"]);

    // For debugging
    await h.ok(["list"]);

    // Ensure the instances were moved back to the origin
    expect(await info("c1")).toContain("Status: RUNNING");
    expect(await info("c1")).toContain("Location: node1");
    expect(await info("c2")).toContain("Status: RUNNING");
    expect(await info("c2")).toContain("Location: node1");
    expect(await info("c3")).toContain("Status: RUNNING");
    expect(await info("c3")).toContain("Location: node1");
    expect(await info("c4")).toContain("Status: RUNNING");
    expect(await info("c4")).toContain("Location: node1");
    expect(await info("c5")).toContain("Status: STOPPED");
    expect(await info("c5")).toContain("Location: node1");
    expect(await info("c6")).toContain("Status: RUNNING");
    expect(await info("c6")).toContain("Location: node2");

    // Clean up
    for (const name of ["c1", "c2", "c3", "c4", "c5", "c6"]) await h.ok(["rm", "-f", name]);
    expect(await h.ok(["list", "--format", "csv"])).toBe("");
    await h.ok(["storage", "delete", "data"]);
    expect(await h.ok(["storage", "list", "--format", "csv"])).not.toContain("data");
  }, 60_000);
});
