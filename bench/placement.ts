/**
 * Placement throughput: decisions per second of the built-in pipeline at 100, 1,000 and 5,000
 * members with ~20 instances each and mixed resources, against a plain loop that only picks the
 * member with the fewest instances from plain arrays (the floor any scheduler pays).
 *
 *   npx tsx bench/placement.ts            (about 20 s)
 *
 * Targets: ≥ 20,000 decisions/s at 1,000 members, ≥ 5,000/s at 5,000 members.
 */
import { pathToFileURL } from "node:url";
import type { Strategy } from "../src/domain/serverConfig.ts";
import { ClusterView } from "../src/scheduler/clusterView.ts";
import { chooseBest, rank } from "../src/scheduler/pipeline.ts";
import { Placer } from "../src/scheduler/placer.ts";
import type { PlacementRequest, SchedulerConfig } from "../src/scheduler/types.ts";

const GiB = 1024 ** 3;
const MEASURE_MS = 1000;
const WARMUP_MS = 200;

/** mulberry32: a fixed, seeded cluster so runs compare. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Cluster {
  view: ClusterView;
  instanceCounts: number[]; // the baseline's plain array
}

export function buildCluster(members: number, instancesPerMember: number): Cluster {
  const rnd = random(members);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(rnd() * values.length)];
  const view = new ClusterView();
  for (let m = 0; m < members; m++) {
    const roll = rnd();
    view.upsertMember({
      name: `node${m}`,
      architecture: rnd() < 0.9 ? "x86_64" : "aarch64",
      failureDomain: `rack${m % 20}`,
      groups: ["default", pick(["web", "db", "gpu", "batch"])],
      schedulerMode: roll < 0.95 ? "all" : roll < 0.98 ? "group" : "manual",
      status: roll < 0.03 ? "Offline" : roll < 0.05 ? "Evacuated" : "Online",
      cpuTotal: pick([16, 32, 64]),
      memoryTotal: pick([64, 128, 256]) * GiB,
      memoryUsed: rnd() * 32 * GiB,
      pools: rnd() < 0.8 ? { default: { total: 2000 * GiB, used: 0 } } : { default: { total: 2000 * GiB, used: 0 }, fast: { total: 500 * GiB, used: 0 } },
      gpuTotal: rnd() < 0.1 ? 4 : 0,
      load1m: rnd() * 8,
    });
  }
  const instanceCounts = new Array<number>(members).fill(0);
  let n = 0;
  for (let m = 0; m < members; m++) {
    const count = instancesPerMember + Math.floor(rnd() * 5) - 2;
    for (let k = 0; k < count; k++) {
      view.addInstance(`default/i${n++}`, `node${m}`, {
        cpu: pick([0.5, 1, 2, 4]), memory: pick([1, 2, 4, 8]) * GiB, disk: 20 * GiB, gpu: 0, pool: "default",
      });
    }
    instanceCounts[m] = count;
  }
  return { view, instanceCounts };
}

/** A mix of requests: plain, 32-bit personality, aarch64, gpu, a group target, a restricted project, an evacuation. */
export function requestMix(members: number): PlacementRequest[] {
  const base = (name: string): PlacementRequest => ({
    name, project: "default", reason: "new", architecture: "x86_64", allowedGroups: null, pool: "default",
    request: { cpu: 2, memory: 4 * GiB, disk: 20 * GiB, gpu: 0 },
  });
  return [
    base("web"),
    { ...base("legacy"), architecture: "i686", request: { cpu: 1, memory: 1 * GiB, disk: 10 * GiB, gpu: 0 } },
    { ...base("arm"), architecture: "aarch64" },
    { ...base("train"), request: { cpu: 8, memory: 32 * GiB, disk: 100 * GiB, gpu: 1 } },
    { ...base("db"), target: { group: "db" }, request: { cpu: 4, memory: 16 * GiB, disk: 200 * GiB, gpu: 0 } },
    { ...base("tenant"), project: "tenant", allowedGroups: ["web", "batch"] },
    { ...base("moved"), reason: "evacuation", excludeMembers: [`node${members >> 1}`] },
    { ...base("any"), architecture: "", pool: "fast", request: { cpu: 0, memory: 0, disk: 50 * GiB, gpu: 0 } },
  ];
}

interface Rate {
  /** Operations per wall-clock second. */
  perSecond: number;
  /** Operations per second of this process's CPU time: steadier when the machine is shared. */
  perCpuSecond: number;
  sink: number;
}

const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** Runs `step` repeatedly for MEASURE_MS after a warm-up. */
function measure(step: (i: number) => number): Rate {
  let sink = 0;
  const warmEnd = performance.now() + WARMUP_MS;
  let i = 0;
  while (performance.now() < warmEnd) sink += step(i++);
  const start = performance.now();
  const cpuStart = cpuMs();
  let ops = 0;
  let now = start;
  while (now - start < MEASURE_MS) {
    for (let k = 0; k < 64; k++) sink += step(ops++);
    now = performance.now();
  }
  return { perSecond: (ops * 1000) / (now - start), perCpuSecond: (ops * 1000) / (cpuMs() - cpuStart), sink };
}

async function measureAsync(step: (i: number) => Promise<number>): Promise<Rate> {
  let sink = 0;
  const warmEnd = performance.now() + WARMUP_MS;
  let i = 0;
  while (performance.now() < warmEnd) sink += await step(i++);
  const start = performance.now();
  const cpuStart = cpuMs();
  let ops = 0;
  while (performance.now() - start < MEASURE_MS) sink += await step(ops++);
  return { perSecond: (ops * 1000) / (performance.now() - start), perCpuSecond: (ops * 1000) / (cpuMs() - cpuStart), sink };
}

const fmt = (n: number): string => Math.round(n).toLocaleString("en-US").padStart(10);

export interface PlacementBenchLine {
  members: number;
  label: string;
  perSecond: number;
  perCpuSecond: number;
}

export async function main(sizes: readonly number[] = [100, 1_000, 5_000]): Promise<PlacementBenchLine[]> {
  const lines: PlacementBenchLine[] = [];
  const print = (members: number, label: string, rate: Rate, extra = ""): void => {
    lines.push({ members, label, perSecond: rate.perSecond, perCpuSecond: rate.perCpuSecond });
    console.log(`${String(members).padStart(6)} members  ${label.padEnd(34)} ${fmt(rate.perSecond)} /s ${fmt(rate.perCpuSecond)} /cpu-s${extra}`);
  };
  console.log("placement bench: ~20 instances per member, mixed requests (8 shapes), no hook");
  console.log(`(/s = per wall-clock second; /cpu-s = per second of this process's CPU time, steadier on a busy machine)`);
  for (const members of sizes) {
    const { view, instanceCounts } = buildCluster(members, 20);
    const requests = requestMix(members);
    const config = (strategy: Strategy): SchedulerConfig => ({ strategy, cpuAllocationRatio: 4, memoryAllocationRatio: 1 });
    const count = config("count");
    const spread = config("spread");

    // Settle first: building the cluster leaves garbage and cold code behind.
    measure((i) => chooseBest(view, requests[i & 7], i & 8 ? spread : count, i).candidateCount);
    const counted = measure((i) => chooseBest(view, requests[i & 7], count, i).candidateCount);
    print(members, "pipeline chooseBest (count)", counted);
    const spreadRun = measure((i) => chooseBest(view, requests[i & 7], spread, i).candidateCount);
    print(members, "pipeline chooseBest (spread)", spreadRun);
    const ranked = measure((i) => rank(view, requests[i & 7], count, i).candidates.length);
    print(members, "pipeline rank, full sort (count)", ranked);

    const placer = new Placer(view);
    const placed = await measureAsync(async (i) => {
      const outcome = await placer.place(requests[i & 7], count, i, "bench/probe");
      if (outcome.ok) view.release("bench/probe");
      return outcome.ok ? 1 : 0;
    });
    print(members, "placer place + release (count)", placed);

    const baseline = measure((i) => {
      let best = 0;
      for (let m = 1; m < instanceCounts.length; m++) if (instanceCounts[m] < instanceCounts[best]) best = m;
      return best + (i & 1);
    });
    print(members, "baseline: fewest instances only", baseline);
    const ratio = counted.perCpuSecond / baseline.perCpuSecond;
    console.log(`${" ".repeat(15)}pipeline (count) / baseline = ${ratio.toFixed(3)}: the baseline is ${(1 / ratio).toFixed(1)}× faster per cpu-second`);
    if (counted.sink + spreadRun.sink + ranked.sink + placed.sink + baseline.sink === -1) console.log(""); // keep results live
  }
  return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const started = performance.now();
  await main();
  console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
