/**
 * The request must fit what the member offers minus what its instances and in-flight placements
 * already request: cpu × cpu_allocation_ratio, memory × memory_allocation_ratio, root disk on
 * its pool (which the member must report), gpu cards. A zero request always fits, even on an
 * overcommitted member: it takes nothing.
 */
import { formatSize } from "../../domain/units.ts";
import { capacity } from "../capacity.ts";
import type { PreparedRequest } from "../prepared.ts";
import { maskHas } from "../prepared.ts";
import type { RejectionFacts } from "./facts.ts";

export const RESOURCES_FILTER = "resources";
export const CPU = 1;
export const MEMORY = 2;
export const DISK_POOL_MISSING = 3;
export const DISK = 4;
export const GPU = 5;


/** 0 = fits; otherwise which resource does not. */
export function checkResources(p: PreparedRequest, slot: number): number {
  const c = p.columns;
  if (p.cpuMilli > 0 && c.cpuRequestedMilli[slot] + p.cpuMilli > c.cpuCapacityMilli[slot]) return CPU;
  if (p.memory > 0 && c.memoryRequested[slot] + p.memory > c.memoryCapacity[slot]) return MEMORY;
  if (p.checkDisk) {
    if (!maskHas(p.poolPresent, slot)) return DISK_POOL_MISSING;
    if (p.poolRequested[slot] + p.disk > p.poolTotal[slot]) return DISK;
  }
  if (p.gpu > 0 && c.gpuRequested[slot] + p.gpu > c.gpuTotal[slot]) return GPU;
  return 0;
}

/** Like the other filters' apply, and also captures, in slot order, what the reason text will
 *  need (already requested, raw total) into p.capturedNumbers: the view may change before it is read. */
export function applyResources(p: PreparedRequest, verdicts: Uint8Array, base: number): void {
  const captured = p.capturedNumbers;
  for (let slot = 0; slot < p.size; slot++) {
    if (verdicts[slot] !== 0) continue;
    const resource = checkResources(p, slot);
    if (resource === 0) continue;
    verdicts[slot] = base + resource;
    captured.push(requestedFor(p, slot, resource), totalFor(p, slot, resource));
  }
}

/** Already requested on the member for the resource that did not fit (captured for the reason). */
export function requestedFor(p: PreparedRequest, slot: number, resource: number): number {
  const c = p.columns;
  if (resource === CPU) return c.cpuRequestedMilli[slot];
  if (resource === MEMORY) return c.memoryRequested[slot];
  if (resource === DISK) return p.poolRequested[slot];
  if (resource === GPU) return c.gpuRequested[slot];
  return 0;
}

/** The member's raw total of that resource (before the allocation ratio). */
export function totalFor(p: PreparedRequest, slot: number, resource: number): number {
  const c = p.columns;
  if (resource === CPU) return c.cpuTotalMilli[slot];
  if (resource === MEMORY) return c.memoryTotal[slot];
  if (resource === DISK) return p.poolTotal[slot];
  if (resource === GPU) return c.gpuTotal[slot];
  return 0;
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
