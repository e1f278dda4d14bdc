/**
 * Evacuating a member that hosts N instances in a 50-member cluster: wall time and how evenly
 * the instances landed (max − min count over the equal targets), without and with a placement
 * scriptlet, at N = 250, 500 and 1,000. Baseline in the same run: the same N moves made straight
 * through the executor with targets picked round-robin (no planning, no scheduler, no progress).
 *
 *   npx tsx bench/evacuate.ts             (about 30 s)
 *
 * Targets at N = 1,000: ≤ 2 s without a scriptlet, ≤ 4 s with one, spread within 1.
 */
import { StoreExecutor } from "../src/members/executor.ts";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import pino from "pino";
import { createBerth, type Berth } from "../src/main.ts";

const MEMBERS = 50;
const TOKEN = "bench";
const SPREAD = readFileSync(new URL("../scriptlets/spread-failure-domains.js", import.meta.url), "utf8");

async function cluster(instances: number, scriptlet: string): Promise<{ berth: Berth; dir: string; call: (m: string, p: string, b?: unknown) => Promise<any> }> {
  const dir = mkdtempSync(join(tmpdir(), "berth-evac-bench-"));
  const berth = await createBerth({ dataDir: dir, localMember: false, adminToken: TOKEN, logger: pino({ level: "silent" }), livenessIntervalMs: 0 });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await berth.app.request(path, { method, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return res.json();
  };
  await call("PATCH", "/1.0", { config: { "cluster.offline_threshold": 3600, "cluster.evacuate.max_parallel": 16 } });
  for (let m = 0; m < MEMBERS; m++) {
    const name = m === 0 ? "source" : `node${m}`;
    // The 49 targets sit in 7 failure domains of 7, the source in a domain of its own: equal
    // targets for the built-in ranking and for the spread-across-failure-domains scriptlet.
    const domain = m === 0 ? "rack-source" : `rack${(m - 1) % 7}`;
    await call("POST", "/1.0/cluster/members", { server_name: name, failure_domain: domain, resources: { cpu: { total: 256 }, memory: { total: 4096 * 1024 ** 3 } } });
    await call("POST", `/1.0/cluster/members/${name}/heartbeat`, {});
  }
  for (let i = 0; i < instances; i++) {
    await call("POST", "/1.0/instances?target=source", { name: `i${i}`, start: i % 2 === 0, config: { "limits.cpu": "1", "limits.memory": "1GiB" } });
  }
  await berth.services.operations.settle(); // the creates' operations start half of them
  if (scriptlet) {
    const r = (await call("PATCH", "/1.0", { config: { "instances.placement.scriptlet": scriptlet } })) as { type: string; error: string };
    if (r.type === "error") throw new Error(r.error);
  }
  return { berth, dir, call };
}

async function spreadOf(berth: Berth): Promise<{ min: number; max: number }> {
  const counts = new Map<string, number>();
  for (let m = 1; m < MEMBERS; m++) counts.set(`node${m}`, 0);
  for (const i of await berth.services.store.listInstances()) if (i.location !== "source") counts.set(i.location, (counts.get(i.location) ?? 0) + 1);
  const values = [...counts.values()];
  return { min: Math.min(...values), max: Math.max(...values) };
}

async function evacuate(instances: number, scriptlet: string): Promise<{ seconds: number; min: number; max: number; left: number }> {
  const { berth, dir, call } = await cluster(instances, scriptlet);
  try {
    const t0 = performance.now();
    const op = await call("POST", "/1.0/cluster/members/source/state", { action: "evacuate" });
    const done = await call("GET", `${op.operation}/wait?timeout=120`);
    const seconds = (performance.now() - t0) / 1000;
    if (done.metadata.status !== "Success") throw new Error(`evacuation ended ${done.metadata.status}: ${done.metadata.err}`);
    return { seconds, ...(await spreadOf(berth)), left: await berth.services.store.countInstances({ location: "source" }) };
  } finally {
    await berth.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The floor: the same moves through the executor alone, targets round-robin. */
async function baseline(instances: number): Promise<number> {
  const { berth, dir } = await cluster(instances, "");
  try {
    const { records: service } = berth.services;
    const executor = new StoreExecutor(service);
    const t0 = performance.now();
    let n = 0;
    for (const instance of await service.list({ location: "source" })) {
      if (instance.status === "Running") await executor.stop(instance, { force: false, timeoutS: 30 });
      await executor.move(await service.get(instance.project, instance.name), `node${1 + (n++ % (MEMBERS - 1))}`, { live: false });
      if (instance.status === "Running") await executor.start(await service.get(instance.project, instance.name));
    }
    return (performance.now() - t0) / 1000;
  } finally {
    await berth.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function main(): Promise<string[]> {
  const lines: string[] = [];
  const say = (line: string) => { console.log(line); lines.push(line); };
  for (const n of [250, 500, 1000]) {
    const floor = await baseline(n);
    const plain = await evacuate(n, "");
    say(`evacuate ${String(n).padStart(4)} instances, no scriptlet: ${plain.seconds.toFixed(2)} s, spread ${plain.max - plain.min} (min ${plain.min}, max ${plain.max}), left ${plain.left}; baseline executor-only ${floor.toFixed(2)} s, ratio ${(plain.seconds / floor).toFixed(2)}`);
    const scripted = await evacuate(n, SPREAD);
    say(`evacuate ${String(n).padStart(4)} instances, spread scriptlet: ${scripted.seconds.toFixed(2)} s, spread ${scripted.max - scripted.min} (min ${scripted.min}, max ${scripted.max}), left ${scripted.left}; ratio to baseline ${(scripted.seconds / floor).toFixed(2)}`);
  }
  return lines;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
