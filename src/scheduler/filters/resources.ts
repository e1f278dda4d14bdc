/**
 * The request must fit what the member offers minus what its instances and in-flight placements
 * already request: cpu × cpu_allocation_ratio, memory × memory_allocation_ratio, root disk on
 * its pool (which the member must report), gpu cards. A zero request always fits, even on an
 * overcommitted member: it takes nothing. A rejection names every resource that is short.
 */
import { formatSize } from "../../domain/units.ts";
import { capacity } from "../capacity.ts";
import { maskHas } from "../prepared.ts";
import type { PreparedRequest } from "../prepared.ts";
import type { InsufficientResource } from "../types.ts";
import type { Filter, RejectionDetails, RejectionFacts, Verdicts } from "./filter.ts";

export const RESOURCES_FILTER = "resources";
// The detail: a mask of the resources short, in the order reasons name them.
const CPU = 1;
const MEMORY = 2;
const DISK = 4;
const GPU = 8;
const POOL_MISSING = 16; // with DISK: the member does not report the pool at all

/**
 * Drops members the request does not fit: detail = the mask of resources short, and per short
 * resource two numbers (already requested, raw total) appended to verdicts.numbers — the view
 * may change before anyone reads the reason.
 */
function apply(p: PreparedRequest, list: Int32Array, count: number, verdicts: Verdicts, id: number): number {
  const c = p.columns;
  // One comparison per resource: the view keeps free = capacity − requested up to date.
  const cpu = p.cpuMilli, cpuFree = c.cpuFreeMilli;
  const memory = p.memory, memoryFree = c.memoryFree;
  const disk = p.checkDisk ? p.disk : 0, poolFree = p.poolFree;
  const gpu = p.gpu, gpuFree = c.gpuFree;
  if (cpu <= 0 && memory <= 0 && disk <= 0 && gpu <= 0) return count;
  const { by, detail } = verdicts;
  let numbers = verdicts.numbers;
  let used = verdicts.used;
  let kept = 0;
  for (let k = 0; k < count; k++) {
    const slot = list[k];
    const short =
      (cpu > 0 && cpu > cpuFree[slot] ? CPU : 0) |
      (memory > 0 && memory > memoryFree[slot] ? MEMORY : 0) |
      (disk > 0 && disk > poolFree[slot] ? DISK : 0) |
      (gpu > 0 && gpu > gpuFree[slot] ? GPU : 0);
    if (short === 0) {
      list[kept++] = slot;
      continue;
    }
    // Room for two numbers per member still to scan (one short resource each), so that a scan
    // which drops many members grows the buffer once or twice, not at every doubling.
    if (used + 8 > numbers.length) numbers = verdicts.room(used + 8 + 2 * (count - k));
    let mask = short;
    if ((short & CPU) !== 0) {
      numbers[used++] = c.cpuRequestedMilli[slot];
      numbers[used++] = c.cpuTotalMilli[slot];
    }
    if ((short & MEMORY) !== 0) {
      numbers[used++] = c.memoryRequested[slot];
      numbers[used++] = c.memoryTotal[slot];
    }
    if ((short & DISK) !== 0) {
      if (!maskHas(p.poolPresent, slot)) mask |= POOL_MISSING;
      numbers[used++] = p.poolRequested.length > slot ? p.poolRequested[slot] : 0;
      numbers[used++] = p.poolTotal.length > slot ? p.poolTotal[slot] : 0;
    }
    if ((short & GPU) !== 0) {
      numbers[used++] = c.gpuRequested[slot];
      numbers[used++] = c.gpuTotal[slot];
    }
    by[slot] = id;
    detail[slot] = mask;
  }
  verdicts.used = used;
  return kept;
}

interface Shortage {
  resource: InsufficientResource["resource"];
  /** What the member's instances already requested and its raw total, in the view's units. */
  requested: number;
  total: number;
}

/** Two numbers per resource short. */
function recordLength(mask: number): number {
  return 2 * ((mask & CPU) + ((mask & MEMORY) >> 1) + ((mask & DISK) >> 2) + ((mask & GPU) >> 3));
}

/** Reads back one member's record, in the order cpu, memory, disk, gpu. */
function shortagesOf(f: RejectionFacts): { shortages: Shortage[]; poolMissing: boolean } {
  const n = f.numbers;
  const mask = f.detail;
  let r = 0;
  const shortages: Shortage[] = [];
  const read = (resource: Shortage["resource"]) => shortages.push({ resource, requested: n[r++], total: n[r++] });
  if ((mask & CPU) !== 0) read("cpu");
  if ((mask & MEMORY) !== 0) read("memory");
  if ((mask & DISK) !== 0) read("disk");
  if ((mask & GPU) !== 0) read("gpu");
  return { shortages, poolMissing: (mask & POOL_MISSING) !== 0 };
}

const cores = (milli: number): string => String(Math.round(milli) / 1000);
const sizeOrZero = (bytes: number): string => formatSize(Math.max(0, bytes));

/** "needs 4 cpu, 2 of 32 (8 × ratio 4) free; needs 5GiB memory, ..." — one clause per short resource. */
function describe(f: RejectionFacts): string {
  const { request: r, config } = f;
  const { shortages, poolMissing } = shortagesOf(f);
  return shortages.map((s) => {
    switch (s.resource) {
      case "cpu": {
        const cap = capacity(s.total, config.cpuAllocationRatio);
        return `needs ${r.request.cpu} cpu, ${cores(Math.max(0, cap - s.requested))} of ${cores(cap)} ` +
          `(${cores(s.total)} × ratio ${config.cpuAllocationRatio}) free`;
      }
      case "memory": {
        const cap = capacity(s.total, config.memoryAllocationRatio);
        return `needs ${formatSize(r.request.memory)} memory, ${sizeOrZero(cap - s.requested)} of ${formatSize(cap)} ` +
          `(${formatSize(s.total)} × ratio ${config.memoryAllocationRatio}) free`;
      }
      case "disk":
        return poolMissing
          ? `needs ${formatSize(r.request.disk)} root disk on pool "${r.pool}", which the member does not have`
          : `needs ${formatSize(r.request.disk)} root disk on pool "${r.pool}", ` +
            `${sizeOrZero(s.total - s.requested)} of ${formatSize(s.total)} free`;
      case "gpu":
        return `needs ${r.request.gpu} gpu, ${Math.max(0, s.total - s.requested)} of ${s.total} free`;
    }
  }).join("; ");
}

/** The same shortages as numbers: cpu in cores, memory and disk in bytes, gpu in cards. */
function details(f: RejectionFacts): RejectionDetails {
  const { request: r, config } = f;
  const insufficient = shortagesOf(f).shortages.map((s): InsufficientResource => {
    switch (s.resource) {
      case "cpu":
        return { resource: "cpu", requested: r.request.cpu, allocated: Math.round(s.requested) / 1000, capacity: capacity(s.total, config.cpuAllocationRatio) / 1000 };
      case "memory":
        return { resource: "memory", requested: r.request.memory, allocated: s.requested, capacity: capacity(s.total, config.memoryAllocationRatio) };
      case "disk":
        return { resource: "disk", requested: r.request.disk, allocated: s.requested, capacity: s.total, pool: r.pool };
      case "gpu":
        return { resource: "gpu", requested: r.request.gpu, allocated: s.requested, capacity: s.total };
    }
  });
  return { insufficient };
}

export const resourcesFilter: Filter = { name: RESOURCES_FILTER, apply, describe, recordLength, details };
