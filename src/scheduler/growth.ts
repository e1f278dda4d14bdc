/**
 * A change of an instance's limits on the member it is on: what it asks beyond what it already
 * holds must fit what the member has free (after the allocation ratios), as a create would.
 */
import { formatSize } from "../domain/units.ts";
import type { ClusterView } from "./clusterView.ts";
import type { PlacedRequest, SchedulerConfig } from "./types.ts";

/** What `next` asks beyond `current`, resource by resource (never negative); null when nothing grows. */
export function growthOf(current: PlacedRequest, next: PlacedRequest): PlacedRequest | null {
  const samePool = (current.pool ?? "") === (next.pool ?? "");
  const growth: PlacedRequest = {
    cpu: Math.max(0, next.cpu - current.cpu),
    memory: Math.max(0, next.memory - current.memory),
    disk: samePool ? Math.max(0, next.disk - current.disk) : next.disk,
    gpu: Math.max(0, next.gpu - current.gpu),
    pool: next.pool,
  };
  return growth.cpu > 0 || growth.memory > 0 || growth.disk > 0 || growth.gpu > 0 ? growth : null;
}

const cores = (milli: number): string => String(Math.round(milli) / 1000);

/** null when `member` can take `growth` on top of what it holds now, else every resource that is short. */
export function checkGrowth(view: ClusterView, member: string, growth: PlacedRequest, config: SchedulerConfig): string | null {
  const slot = view.slot(member);
  if (slot < 0) return `member "${member}" is not known to the scheduler`;
  const c = view.columns;
  c.useRatios(config.cpuAllocationRatio, config.memoryAllocationRatio);
  const short: string[] = [];
  const cpuMilli = Math.round(growth.cpu * 1000);
  if (cpuMilli > 0 && cpuMilli > c.cpuFreeMilli[slot]) {
    short.push(`needs ${growth.cpu} more cpu, ${cores(Math.max(0, c.cpuFreeMilli[slot]))} of ${cores(c.cpuCapacityMilli[slot])} free`);
  }
  if (growth.memory > 0 && growth.memory > c.memoryFree[slot]) {
    short.push(`needs ${formatSize(growth.memory)} more memory, ${formatSize(Math.max(0, c.memoryFree[slot]))} of ${formatSize(c.memoryCapacity[slot])} free`);
  }
  if (growth.gpu > 0 && growth.gpu > c.gpuFree[slot]) {
    short.push(`needs ${growth.gpu} more gpu, ${Math.max(0, c.gpuFree[slot])} of ${c.gpuTotal[slot]} free`);
  }
  if (growth.disk > 0 && growth.pool !== undefined) {
    const pool = c.pools.get(growth.pool);
    const free = pool && pool.present[slot] === 1 ? pool.free[slot] : -Infinity;
    if (growth.disk > free) {
      short.push(free === -Infinity
        ? `needs ${formatSize(growth.disk)} root disk on pool "${growth.pool}", which the member does not have`
        : `needs ${formatSize(growth.disk)} more root disk on pool "${growth.pool}", ${formatSize(Math.max(0, free))} free`);
    }
  }
  return short.length > 0 ? short.join("; ") : null;
}
