import { ClusterView } from "/work/main/src/scheduler/clusterView.ts";
import { PreparedRequest } from "/work/main/src/scheduler/prepared.ts";
import { applyFilters } from "/work/main/src/scheduler/filters/index.ts";
import { compareScored, scoreOf } from "/work/main/src/scheduler/rankers/index.ts";
import { chooseBest } from "/work/main/src/scheduler/pipeline.ts";
const GiB = 1024 ** 3;
const view = new ClusterView();
const N = 5000;
for (let m = 0; m < N; m++) view.upsertMember({ name: `n${m}`, architecture: "x86_64", failureDomain: "d", groups: ["default"], schedulerMode: "all", status: "Online", cpuTotal: 32, memoryTotal: 128 * GiB, memoryUsed: m, pools: { default: { total: 2000 * GiB, used: 0 } }, gpuTotal: 0, load1m: 0 });
for (let m = 0; m < N; m++) for (let k = 0; k < 20; k++) view.addInstance(`p/${m}/${k}`, `n${m}`, { cpu: 1, memory: GiB, disk: GiB, gpu: 0, pool: "default" });
const req = { name: "x", project: "p", reason: "new" as const, architecture: "x86_64", allowedGroups: null, pool: "default", request: { cpu: 2, memory: 4 * GiB, disk: 20 * GiB, gpu: 0 } };
const cfg = { strategy: "count" as const, cpuAllocationRatio: 4, memoryAllocationRatio: 1 };
function time(label: string, f: (i: number) => number) {
  let s = 0; for (let i = 0; i < 2000; i++) s += f(i);
  const t = performance.now(); let n = 0;
  while (performance.now() - t < 700) { for (let k = 0; k < 50; k++) s += f(n++); }
  const dt = performance.now() - t;
  console.log(label.padEnd(20), Math.round(n * 1000 / dt), "/s", ((dt * 1e6) / n / N).toFixed(1), "ns/member", s === -1 ? "" : "");
}
if (process.argv[2] === "filters") time("filters", (i) => { const p = new PreparedRequest(view, req, cfg, i); const v = new Uint8Array(p.size); applyFilters(p, v); return v[i % N]; });
const p0 = new PreparedRequest(view, req, cfg, 1); const v0 = new Uint8Array(N);
if (process.argv[2] === "scan") time("scan", (i) => { let best = -1, bs = 0; for (let s = 0; s < N; s++) { if (v0[s] !== 0) continue; const sc = scoreOf(p0, s); if (best < 0 || compareScored(p0, s, sc, best, bs) < 0) { best = s; bs = sc; } } return best; });
if (process.argv[2] === "chooseBest") time("chooseBest", (i) => chooseBest(view, req, cfg, i).candidateCount);
{
const counts = view.columns.instanceCount, free = view.columns.reportedFreeMemory;
if (process.argv[2] === "scan locals") time("scan locals", (i) => { let best = -1, bc = 0, bf = 0; for (let s = 0; s < N; s++) { if (v0[s] !== 0) continue; const c = counts[s]; const f = free[s]; if (best < 0 || c < bc || (c === bc && f > bf)) { best = s; bc = c; bf = f; } } return best; });
if (process.argv[2] === "scoreOf only") time("scoreOf only", (i) => { let t = 0; for (let s = 0; s < N; s++) t += scoreOf(p0, s); return t; });
if (process.argv[2] === "p0.columns.instanceCount") time("p0.columns.instanceCount", (i) => { let t = 0; for (let s = 0; s < N; s++) t += p0.columns.instanceCount[s]; return t; });
if (process.argv[2] === "p0.strategy") time("p0.strategy", (i) => { let t = 0; for (let s = 0; s < N; s++) t += p0.strategy; return t; });
}
import { countScore } from "/work/main/src/scheduler/rankers/count.ts";
import { STRATEGY_CODES } from "/work/main/src/scheduler/prepared.ts";
import { allocatedAfter } from "/work/main/src/scheduler/rankers/allocation.ts";
{
if (process.argv[2] === "countScore") time("countScore", (i) => { let t = 0; for (let s = 0; s < N; s++) t += countScore(p0, s); return t; });
if (process.argv[2] === "STRATEGY_CODES.count") time("STRATEGY_CODES.count", (i) => { let t = 0; for (let s = 0; s < N; s++) t += STRATEGY_CODES.count + s; return t; });
if (process.argv[2] === "allocatedAfter") time("allocatedAfter", (i) => { let t = 0; for (let s = 0; s < N; s++) t += allocatedAfter(p0, s); return t; });
}
import { applyStatus } from "../src/scheduler/filters/status.ts";
import { applyResources } from "../src/scheduler/filters/resources.ts";
import { applyArchitecture } from "../src/scheduler/filters/architecture.ts";
import { applySchedulerInstance } from "../src/scheduler/filters/schedulerInstance.ts";
{
  const fs = { applyStatus, applyResources, applyArchitecture, applySchedulerInstance } as Record<string, (p: PreparedRequest, v: Uint8Array, b: number) => void>;
  const f = fs[process.argv[2]];
  if (f) time(process.argv[2], (i) => { const p = new PreparedRequest(view, req, cfg, i); const v = new Uint8Array(p.size); f(p, v, 16, 0, p.size); return v[i % N]; });
  if (process.argv[2] === "statusLocals") time("statusLocals", (i) => { const p = new PreparedRequest(view, req, cfg, i); const v = new Uint8Array(p.size); const st = p.columns.statusCode; for (let s = 0; s < p.size; s++) if (v[s] === 0 && st[s] !== 0) v[s] = 16 + st[s]; return v[i % N]; });
}
{
  const gpuReq = { ...req, request: { cpu: 0, memory: 0, disk: 0, gpu: 1 } };
  if (process.argv[2] === "gpuRes") time("gpuRes", (i) => { const p = new PreparedRequest(view, gpuReq, cfg, i); const v = new Uint8Array(p.size); applyResources(p, v, 16, 0, p.size); return v[i % N]; });
  if (process.argv[2] === "res") time("res", (i) => { const p = new PreparedRequest(view, req, cfg, i); const v = new Uint8Array(p.size); applyResources(p, v, 16, 0, p.size); return v[i % N]; });
}
{
  if (process.argv[2] === "fused") time("fused", (i) => {
    const p = new PreparedRequest(view, req, cfg, i); const v = new Uint8Array(p.size);
    const c = p.columns; const st = c.statusCode, mode = c.modeCode, arch = c.archCode, a = p.archA, b = p.archB;
    const cpu = p.cpuMilli, cpuR = c.cpuRequestedMilli, cpuC = c.cpuCapacityMilli, mem = p.memory, memR = c.memoryRequested, memC = c.memoryCapacity;
    const disk = p.disk, pp = p.poolPresent, pr = p.poolRequested, pt = p.poolTotal;
    for (let s = 0; s < p.size; s++) {
      if (st[s] !== 0) { v[s] = 48 + st[s]; continue; }
      if (mode[s] !== 0) { v[s] = 64 + mode[s]; continue; }
      if (arch[s] !== a && arch[s] !== b) { v[s] = 97; continue; }
      if (cpu > 0 && cpuR[s] + cpu > cpuC[s]) { v[s] = 113; continue; }
      if (mem > 0 && memR[s] + mem > memC[s]) { v[s] = 114; continue; }
      if (disk > 0 && (pp[s] === 0 || pr[s] + disk > pt[s])) { v[s] = 115; continue; }
    }
    return v[i % N];
  });
  if (process.argv[2] === "filters4") time("filters4", (i) => { const p = new PreparedRequest(view, req, cfg, i); const v = new Uint8Array(p.size); applyStatus(p, v, 48, 0, p.size); applySchedulerInstance(p, v, 64, 0, p.size); applyArchitecture(p, v, 96, 0, p.size); applyResources(p, v, 112, 0, p.size); return v[i % N]; });
}
{
  const p = new PreparedRequest(view, req, cfg, 1);
  const c = p.columns; const st = c.statusCode, mode = c.modeCode, arch = c.archCode, a = p.archA, b = p.archB;
  const cpu = p.cpuMilli, cpuR = c.cpuRequestedMilli, cpuC = c.cpuCapacityMilli, mem = p.memory, memR = c.memoryRequested, memC = c.memoryCapacity;
  const disk = p.disk, pp = p.poolPresent, pr = p.poolRequested, pt = p.poolTotal;
  const v = new Uint8Array(N);
  if (process.argv[2] === "fused-pure") time("fused-pure", (i) => {
    let rej = 0;
    for (let s = 0; s < N; s++) {
      if (st[s] !== 0) { rej++; continue; }
      if (mode[s] !== 0) { rej++; continue; }
      if (arch[s] !== a && arch[s] !== b) { rej++; continue; }
      if (cpu > 0 && cpuR[s] + cpu > cpuC[s]) { rej++; continue; }
      if (mem > 0 && memR[s] + mem > memC[s]) { rej++; continue; }
      if (disk > 0 && (pp[s] === 0 || pr[s] + disk > pt[s])) { rej++; continue; }
    }
    return rej + i;
  });
  if (process.argv[2] === "only-status") time("only-status", (i) => { let rej = 0; for (let s = 0; s < N; s++) if (st[s] !== 0) rej++; return rej + i; });
  if (process.argv[2] === "only-cpu") time("only-cpu", (i) => { let rej = 0; for (let s = 0; s < N; s++) if (cpuR[s] + cpu > cpuC[s]) rej++; return rej + i; });
  if (process.argv[2] === "only-mem") time("only-mem", (i) => { let rej = 0; for (let s = 0; s < N; s++) if (memR[s] + mem > memC[s]) rej++; return rej + i; });
  if (process.argv[2] === "info") console.log(typeof cpu, cpu, mem, disk, a, b, cpuR.constructor.name, pp.constructor.name, pt.length);
}
if (process.argv[2] === "prep") time("prep", (i) => new PreparedRequest(view, req, cfg, i).size + i);
if (process.argv[2] === "alloc") time("alloc", (i) => new Uint8Array(N)[i % N]);
if (process.argv[2] === "prep+alloc") time("prep+alloc", (i) => new PreparedRequest(view, req, cfg, i).size + new Uint8Array(N)[i % N]);
