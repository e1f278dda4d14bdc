import { ClusterView } from "../src/scheduler/clusterView.ts";
import { Placer } from "../src/scheduler/placer.ts";
import { chooseBest } from "../src/scheduler/pipeline.ts";
const GiB = 1024 ** 3;
const view = new ClusterView();
const N = Number(process.argv[3] ?? 100);
for (let m = 0; m < N; m++) view.upsertMember({ name: `n${m}`, architecture: "x86_64", failureDomain: "d", groups: ["default"], schedulerMode: "all", status: "Online", cpuTotal: 32, memoryTotal: 128 * GiB, memoryUsed: m, pools: { default: { total: 2000 * GiB, used: 0 } }, gpuTotal: 0, load1m: 0 });
const req = { name: "x", project: "p", reason: "new" as const, architecture: "x86_64", allowedGroups: null, pool: "default", request: { cpu: 2, memory: 4 * GiB, disk: 20 * GiB, gpu: 0 } };
const cfg = { strategy: "count" as const, cpuAllocationRatio: 4, memoryAllocationRatio: 1 };
const placer = new Placer(view);
const mode = process.argv[2];
const t = performance.now(); let n = 0;
while (performance.now() - t < 1000) {
  if (mode === "place") { const o = await placer.place(req, cfg, n, "k"); if (o.ok) view.release("k"); }
  else if (mode === "placeSync") { for (let k = 0; k < 100; k++) { void placer.place(req, cfg, n, "k"); view.release("k"); n++; } }
  else if (mode === "reserve") { view.reserve("k", "n1", { ...req.request, pool: "default" }); view.release("k"); }
  else chooseBest(view, req, cfg, n);
  n++;
}
console.log(mode, Math.round(n * 1000 / (performance.now() - t)));
