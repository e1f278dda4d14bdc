/**
 * The request must fit what the member offers minus what its instances and in-flight placements
 * already request: cpu × cpu_allocation_ratio, memory × memory_allocation_ratio, root disk on
 * its pool (which the member must report), gpu cards. A zero request always fits, even on an
 * overcommitted member: it takes nothing.
 */
import { formatSize } from "../../domain/units.ts";
import { capacity } from "../capacity.ts";
import { maskHas } from "../prepared.ts";
import type { PreparedRequest } from "../prepared.ts";
import type { RejectionFacts } from "./facts.ts";

export const RESOURCES_FILTER = "resources";
export const CPU = 1;
export const MEMORY = 2;
export const DISK_POOL_MISSING = 3;
export const DISK = 4;
export const GPU = 5;

/**
 * Drops members the request does not fit; detail = the first resource short. Captures what the
 * reason will need (already requested, raw total) into p.capturedNumbers, in slot order: the
 * view may change before anyone reads the reason.
 */
export function applyResources(p: PreparedRequest, list: Int32Array, count: number, verdicts: Uint8Array, base: number): number {
  const c = p.columns;
  // One comparison per resource: the view keeps free = capacity − requested up to date.
  const cpu = p.cpuMilli, cpuFree = c.cpuFreeMilli;
  const memory = p.memory, memoryFree = c.memoryFree;
  const disk = p.checkDisk ? p.disk : 0, poolFree = p.poolFree;
  const gpu = p.gpu, gpuFree = c.gpuFree;
  if (cpu <= 0 && memory <= 0 && disk <= 0 && gpu <= 0) return count;
  let captured = p.capturedNumbers;
  let at = p.capturedLength;
  let kept = 0;
  for (let k = 0; k < count; k++) {
    const slot = list[k];
    let short: number;
    let requested = 0; // what the reason will need: already requested and the raw total
    let total = 0;
    if (cpu > 0 && cpu > cpuFree[slot]) {
      short = CPU; requested = c.cpuRequestedMilli[slot]; total = c.cpuTotalMilli[slot];
    } else if (memory > 0 && memory > memoryFree[slot]) {
      short = MEMORY; requested = c.memoryRequested[slot]; total = c.memoryTotal[slot];
    } else if (disk > 0 && disk > poolFree[slot]) {
      short = maskHas(p.poolPresent, slot) ? DISK : DISK_POOL_MISSING;
      requested = p.poolRequested.length > slot ? p.poolRequested[slot] : 0;
      total = p.poolTotal.length > slot ? p.poolTotal[slot] : 0;
    } else if (gpu > 0 && gpu > gpuFree[slot]) {
      short = GPU; requested = c.gpuRequested[slot]; total = c.gpuTotal[slot];
    } else {
      list[kept++] = slot;
      continue;
    }
    verdicts[slot] = base + short;
    if (captured === null || at + 2 > captured.length) captured = p.capturedNumbers = grownCapture(captured);
    captured[at++] = requested;
    captured[at++] = total;
  }
  p.capturedLength = at;
  return kept;
}

function grownCapture(captured: Float64Array | null): Float64Array {
  const next = new Float64Array(Math.max(64, (captured?.length ?? 0) * 2));
  if (captured !== null) next.set(captured);
  return next;
}

const cores = (milli: number): string => String(Math.round(milli) / 1000);
const sizeOrZero = (bytes: number): string => formatSize(Math.max(0, bytes));

export function describeResources(f: RejectionFacts): string {
  const { request: r, config } = f;
  switch (f.detail) {
    case CPU: {
      const cap = capacity(f.total, config.cpuAllocationRatio);
      return `needs ${r.request.cpu} cpu, ${cores(Math.max(0, cap - f.requested))} of ${cores(cap)} ` +
        `(${cores(f.total)} × ratio ${config.cpuAllocationRatio}) free`;
    }
    case MEMORY: {
      const cap = capacity(f.total, config.memoryAllocationRatio);
      return `needs ${formatSize(r.request.memory)} memory, ${sizeOrZero(cap - f.requested)} of ${formatSize(cap)} ` +
        `(${formatSize(f.total)} × ratio ${config.memoryAllocationRatio}) free`;
    }
    case DISK_POOL_MISSING:
      return `needs ${formatSize(r.request.disk)} root disk on pool "${r.pool}", which the member does not have`;
    case DISK:
      return `needs ${formatSize(r.request.disk)} root disk on pool "${r.pool}", ` +
        `${sizeOrZero(f.total - f.requested)} of ${formatSize(f.total)} free`;
    default:
      return `needs ${r.request.gpu} gpu, ${Math.max(0, f.total - f.requested)} of ${f.total} free`;
  }
}
