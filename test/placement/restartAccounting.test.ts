/**
 * After a restart the scheduler counts the stored instances exactly as it counted them live: the
 * index is then loaded from the store's lean rows (Store.listInstanceResources), not built from
 * the changes that created them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { makeHarness, type Harness } from "../support/harness.ts";

const GiB = 1024 ** 3;
const dir = mkdtempSync(join(tmpdir(), "berth-restart-accounting-"));
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

const root = (pool: string, size?: string) => ({ root: { type: "disk", path: "/", pool, ...(size ? { size } : {}) } });

/** What every member offers and holds, as the placement query reports it, for two requests. */
async function accounting(harness: Harness): Promise<unknown> {
  const answers = [];
  for (const body of [{ name: "probe" }, { name: "probe", devices: root("fast", "1GiB") }]) {
    const r = await harness.request("POST", "/1.0/scheduler/placement", body);
    expect(r.status).toBe(200);
    answers.push(r.body.metadata.candidates, r.body.metadata.rejected);
  }
  return answers;
}

it("counts every stored instance's cpu, memory, root disk and gpus the same after a restart", async () => {
  h = await makeHarness({ dir });
  for (const pool of ["default", "fast"]) expect((await h.request("POST", "/1.0/storage-pools", { name: pool, driver: "dir" })).status).toBe(201);
  const resources = {
    cpu: { total: 16 }, memory: { total: 64 * GiB }, gpu: { total: 4, cards: [] },
    storage: { pools: { default: { total: 500 * GiB }, fast: { total: 100 * GiB } } },
  };
  for (const name of ["n1", "n2", "n3"]) await h.addMember(name, { resources });
  const instances: { name: string; target: string; config?: Record<string, string>; devices?: Record<string, Record<string, string>> }[] = [
    { name: "bare", target: "n1" },
    { name: "cpu", target: "n1", config: { "limits.cpu": "2.5" } },
    { name: "mem", target: "n2", config: { "limits.memory": "3GiB", "user.note": "x" } },
    { name: "both", target: "n2", config: { "limits.cpu": "1", "limits.memory": "512MiB" }, devices: root("default", "20GiB") },
    { name: "both2", target: "n3", config: { "limits.cpu": "1", "limits.memory": "512MiB" }, devices: root("default", "20GiB") },
    { name: "fastdisk", target: "n3", devices: root("fast", "30GiB") },
    { name: "gpus", target: "n3", config: { "limits.gpu": "1" }, devices: { ...root("default"), g0: { type: "gpu" }, g1: { type: "gpu" } } },
    { name: "gpulimit", target: "n1", config: { "limits.gpu": "2", "limits.cpu": "4" } },
  ];
  for (const { name, target, config, devices } of instances) {
    const r = await h.run("POST", `/1.0/instances?target=${target}`, { name, config: config ?? {}, devices: devices ?? {} });
    expect(r.status, r.body.error).toBe(202);
    expect(r.op?.status).toBe("Success");
  }
  // One with its limits changed afterwards: the live index followed the change.
  expect((await h.request("PATCH", "/1.0/instances/cpu", { config: { "limits.cpu": "3" } })).status).toBe(200);
  const live = await accounting(h);
  await h.close();

  h = await makeHarness({ dir });
  expect(await accounting(h)).toEqual(live);
});
