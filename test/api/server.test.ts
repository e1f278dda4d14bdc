import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeHarness, type Harness } from "../support/harness.ts";

let h: Harness;
beforeEach(async () => { h = await makeHarness(); });
afterEach(async () => { await h.close(); });

describe("what LXD clients check", () => {
  it("advertises the LXD API extensions Berth implements, and GET /1.0/cluster", async () => {
    const info = (await h.request("GET", "/1.0")).body.metadata;
    for (const extension of [
      "clustering", "clustering_evacuation", "clustering_failure_domains", "clustering_edit_roles", "clustering_groups",
      "instances", "instance_get_full", "container_full", "api_filtering", "projects", "storage", "operation_description",
    ]) expect(info.api_extensions, extension).toContain(extension);
    // Nothing Berth lacks: no images, networks, profiles editing, ETags, resources endpoint.
    for (const absent of ["etag", "network", "container_backup", "resources", "image_types"]) expect(info.api_extensions).not.toContain(absent);
    expect(info).toMatchObject({ auth: "trusted", environment: { server_clustered: true } });
    const cluster = await h.request("GET", "/1.0/cluster");
    expect(cluster.body.metadata).toEqual({ server_name: info.environment.server_name, enabled: true, member_config: [] });
  });
});

describe("GET/PATCH/PUT /1.0", () => {
  it("shows defaults in effective_config and only explicit keys in config, every value a string (as LXD)", async () => {
    const r = await h.request("GET", "/1.0");
    expect(r.body.metadata.config).toEqual({});
    expect(r.body.metadata.effective_config).toMatchObject({
      "cluster.offline_threshold": "20", "cluster.healing_threshold": "0", "cluster.evacuate.max_parallel": "4", "cluster.healing.max_parallel": "256",
      "scheduler.strategy": "count", "scheduler.cpu_allocation_ratio": "4", "scheduler.memory_allocation_ratio": "1",
      "scriptlet.timeout_ms": "200", "scriptlet.memory_mb": "32", "instances.placement.scriptlet": "",
    });
  });

  it("PATCH sets keys (strings accepted for numbers), null resets; PUT replaces", async () => {
    const p = await h.request("PATCH", "/1.0", { config: { "cluster.offline_threshold": "30", "scheduler.strategy": "pack" } });
    expect(p.status).toBe(200);
    expect(p.body.metadata).toEqual({ "cluster.offline_threshold": "30", "scheduler.strategy": "pack" });
    await h.request("PATCH", "/1.0", { config: { "scheduler.strategy": null } });
    expect((await h.request("GET", "/1.0")).body.metadata.config).toEqual({ "cluster.offline_threshold": "30" });
    await h.request("PUT", "/1.0", { config: { "scheduler.cpu_allocation_ratio": 2.5 } });
    const after = (await h.request("GET", "/1.0")).body.metadata;
    expect(after.config).toEqual({ "scheduler.cpu_allocation_ratio": "2.5" });
    expect(after.effective_config["cluster.offline_threshold"]).toBe("20");
  });

  it.each([
    ["cluster.offline_threshold", 5, "at least 10"],
    ["cluster.offline_threshold", 12.5, "whole number"],
    ["cluster.offline_threshold", "soon", "whole number"],
    ["cluster.healing_threshold", -1, "at least 0"],
    ["cluster.evacuate.max_parallel", 0, "at least 1"],
    ["scheduler.strategy", "random", "count, spread, pack"],
    ["scheduler.cpu_allocation_ratio", true, "number"],
    ["scriptlet.timeout_ms", 10_000_000, "at most"],
    ["scriptlet.memory_mb", [], "number"],
    ["cluster.flux_capacitor", 1, "Unknown configuration key"],
  ])("rejects %s = %j with a 400 naming key and problem, changing nothing", async (key, value, words) => {
    await h.request("PATCH", "/1.0", { config: { "scheduler.strategy": "spread" } });
    const r = await h.request("PATCH", "/1.0", { config: { "cluster.evacuate.max_parallel": 8, [key]: value } });
    expect(r.status).toBe(400);
    expect(r.body.error).toContain(key);
    expect(r.body.error).toContain(words);
    expect((await h.request("GET", "/1.0")).body.metadata.config).toEqual({ "scheduler.strategy": "spread" });
  });
});
