/**
 * The request must fit what the member offers minus what its instances and in-flight placements
 * already request: cpu × cpu_allocation_ratio, memory × memory_allocation_ratio, root disk on
 * its pool (which the member must report), gpu cards. A zero request always fits, even on an
 * overcommitted member: it takes nothing.
 */
import { formatSize } from "../../domain/units.ts";
import { capacity } from "../capacity.ts";
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
 * reason will need (already requested, raw total) into p.capturedNumbers: the view may change
 * before anyone reads the reason.
 */
export function applyResources(p: PreparedRequest, verdicts: Uint8Array, base: number, from: number, to: number): void {
  const c = p.columns;
  const cpu = p.cpuMilli, cpuRequested = c.cpuRequestedMilli, cpuCapacity = c.cpuCapacityMilli;
  const memory = p.memory, memoryRequested = c.memoryRequested, memoryCapacity = c.memoryCapacity;
  const disk = p.checkDisk ? p.disk : 0, poolPresent = p.poolPresent, poolRequested = p.poolRequested, poolTotal = p.poolTotal;
  const gpu = p.gpu, gpuRequested = c.gpuRequested, gpuTotal = c.gpuTotal;
  let captured = p.capturedNumbers;
  for (let slot = from; slot < to; slot++) {
    if (verdicts[slot] !== 0) continue;
    let short = 0;
    let requested = 0;
    let total = 0;
    if (cpu > 0 && cpuRequested[slot] + cpu > cpuCapacity[slot]) {
      short = CPU; requested = cpuRequested[slot]; total = c.cpuTotalMilli[slot];
    } else if (memory > 0 && memoryRequested[slot] + memory > memoryCapacity[slot]) {
      short = MEMORY; requested = memoryRequested[slot]; total = c.memoryTotal[slot];
    } else if (disk > 0 && (slot >= poolPresent.length || poolPresent[slot] === 0)) {
      short = DISK_POOL_MISSING;
    } else if (disk > 0 && poolRequested[slot] + disk > poolTotal[slot]) {
      short = DISK; requested = poolRequested[slot]; total = poolTotal[slot];
    } else if (gpu > 0 && gpuRequested[slot] + gpu > gpuTotal[slot]) {
      short = GPU; requested = gpuRequested[slot]; total = gpuTotal[slot];
    } else {
      continue;
    }
    verdicts[slot] = base + short;
    captured ??= p.capturedNumbers = new Float64Array(2 * p.size);
    captured[2 * slot] = requested;
    captured[2 * slot + 1] = total;
  }
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
