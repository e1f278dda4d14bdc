/**
 * Members stored column-wise: one typed array per figure, indexed by slot. A decision scans
 * these arrays in tight loops without touching per-member objects, which is what makes 5,000
 * members cheap. Slots are dense: removing a member moves the last slot into its place.
 *
 * Besides what members report and what their instances request, the columns keep what is
 * *free* (capacity after the allocation ratio minus requested) up to date on every change, so
 * the resources filter compares the request with one number per resource.
 */
import { capacity } from "./capacity.ts";
import type { MemberInfo } from "./types.ts";

/** Disk accounting for one storage pool, by member slot. */
export interface PoolColumns {
  present: Uint8Array; // 1 when the member reports this pool
  total: Float64Array;
  used: Float64Array; // reported
  requested: Float64Array; // root disks of the member's instances and reservations on this pool
  free: Float64Array; // total − requested; −Infinity when the member does not report the pool
}

type Column = Uint8Array | Int32Array | Uint32Array | Float64Array;

const MEMBER_COLUMNS = [
  "statusCode", "modeCode", "archCode", "nameHash", "cpuTotalMilli", "memoryTotal", "reportedFreeMemory",
  "gpuTotal", "load1m", "cpuCapacityMilli", "memoryCapacity", "instanceCount", "pendingCount",
  "cpuRequestedMilli", "memoryRequested", "gpuRequested", "cpuFreeMilli", "memoryFree", "gpuFree",
] as const;
const POOL_COLUMNS = ["present", "total", "used", "requested", "free"] as const;

function grown<T extends Column>(column: T, size: number): T {
  const next = new (column.constructor as new (n: number) => T)(size);
  next.set(column.subarray(0, Math.min(column.length, size)));
  return next;
}

export const ONLINE = 0; // statusCode of an Online member (index in MEMBER_STATUSES)
export const MODE_ALL = 0; // modeCode of scheduler.instance=all

export class MemberColumns {
  size = 0;
  private capacity: number;
  readonly names: string[] = [];
  /** Copy-on-write: a decision keeps a reference for its lazy reasons (see snapshotInfos), and the
   *  next change copies the array instead of mutating what that decision holds. */
  private infoArray: MemberInfo[] = [];
  private infosShared = false;
  /** Members not Online / not scheduler.instance=all: when 0, their filters skip the scan. */
  unavailableCount = 0;
  restrictedModeCount = 0;
  private cpuRatio = 1;
  private memoryRatio = 1;

  statusCode = new Uint8Array(0); // index into MEMBER_STATUSES; 0 = Online
  modeCode = new Uint8Array(0); // SCHEDULER_MODE_CODES
  archCode = new Int32Array(0); // interned canonical architecture
  nameHash = new Uint32Array(0); // hashString(name), for seeded tie-breaks
  cpuTotalMilli = new Float64Array(0); // logical cpus × 1000: millicores keep sums exact
  memoryTotal = new Float64Array(0);
  reportedFreeMemory = new Float64Array(0); // memoryTotal − memoryUsed, as reported
  gpuTotal = new Float64Array(0);
  load1m = new Float64Array(0);
  cpuCapacityMilli = new Float64Array(0); // cpuTotalMilli × cpu ratio
  memoryCapacity = new Float64Array(0); // memoryTotal × memory ratio
  instanceCount = new Int32Array(0); // instances + reservations
  pendingCount = new Int32Array(0); // reservations
  cpuRequestedMilli = new Float64Array(0);
  memoryRequested = new Float64Array(0);
  gpuRequested = new Float64Array(0);
  cpuFreeMilli = new Float64Array(0); // capacity − requested (negative when overcommitted)
  memoryFree = new Float64Array(0);
  gpuFree = new Float64Array(0);
  readonly groups = new Map<string, Uint8Array>();
  readonly pools = new Map<string, PoolColumns>();
  /** 0, 1, 2, …: copied into the scratch list at the start of every decision. */
  private identity = new Int32Array(0);
  private scratch = new Int32Array(0);

  constructor(initialCapacity = 64) {
    this.capacity = 0;
    this.grow(initialCapacity);
  }

  /** Every slot, in order, in a buffer the filters narrow in place. Shared by all decisions: valid
   *  until the next call, which is safe because a decision never awaits. */
  allSlots(): Int32Array {
    this.scratch.set(this.identity.subarray(0, this.size));
    return this.scratch;
  }

  info(slot: number): MemberInfo {
    return this.infoArray[slot];
  }

  /** Infos by slot as they are now, frozen for whoever keeps the reference. */
  snapshotInfos(): readonly MemberInfo[] {
    this.infosShared = true;
    return this.infoArray;
  }

  setInfo(slot: number, info: MemberInfo): void {
    this.writableInfos()[slot] = info;
  }

  /** Appends an empty slot and returns it (every column zeroed, no pool, in no group). */
  appendSlot(name: string, info: MemberInfo): number {
    if (this.size === this.capacity) this.grow(this.capacity * 2);
    const slot = this.size++;
    this.names[slot] = name;
    this.writableInfos()[slot] = info;
    for (const column of this.allColumns()) column[slot] = 0;
    for (const pool of this.pools.values()) pool.free[slot] = -Infinity;
    return slot;
  }

  /** Removes a slot by moving the last one into it; returns the name now at `slot` (or null). */
  removeSlot(slot: number): string | null {
    this.setStatus(slot, ONLINE); // keep the counters right
    this.setMode(slot, MODE_ALL);
    const last = --this.size;
    const infos = this.writableInfos();
    if (slot !== last) {
      for (const column of this.allColumns()) column[slot] = column[last];
      this.names[slot] = this.names[last];
      infos[slot] = infos[last];
    }
    this.names.length = this.size;
    infos.length = this.size;
    return slot !== last ? this.names[slot] : null;
  }

  setStatus(slot: number, code: number): void {
    this.unavailableCount += Number(code !== ONLINE) - Number(this.statusCode[slot] !== ONLINE);
    this.statusCode[slot] = code;
  }

  setMode(slot: number, code: number): void {
    this.restrictedModeCount += Number(code !== MODE_ALL) - Number(this.modeCode[slot] !== MODE_ALL);
    this.modeCode[slot] = code;
  }

  /** Makes capacity and free hold totals × these ratios. Recomputes only when the ratios change
   *  (a config change), so a decision does not multiply and floor per member. */
  useRatios(cpuRatio: number, memoryRatio: number): void {
    if (cpuRatio === this.cpuRatio && memoryRatio === this.memoryRatio) return;
    this.cpuRatio = cpuRatio;
    this.memoryRatio = memoryRatio;
    for (let slot = 0; slot < this.size; slot++) this.updateCapacity(slot);
  }

  setTotals(slot: number, cpuTotalMilli: number, memoryTotal: number, gpuTotal: number): void {
    this.cpuTotalMilli[slot] = cpuTotalMilli;
    this.memoryTotal[slot] = memoryTotal;
    this.gpuTotal[slot] = gpuTotal;
    this.updateCapacity(slot);
  }

  /** Replaces the pools a member reports; what its instances request on each pool stays. */
  setPools(slot: number, reported: Readonly<Record<string, { total: number; used: number }>>): void {
    for (const pool of this.pools.values()) {
      pool.present[slot] = 0;
      pool.free[slot] = -Infinity;
    }
    for (const [name, space] of Object.entries(reported)) {
      const pool = this.poolColumns(name);
      pool.present[slot] = 1;
      pool.total[slot] = space.total;
      pool.used[slot] = space.used;
      pool.free[slot] = space.total - pool.requested[slot];
    }
  }

  /** Adds (sign 1) or removes (sign −1) one instance's or reservation's requests. */
  account(slot: number, sign: 1 | -1, reserved: boolean, cpuMilli: number, memory: number, gpu: number, pool: string | undefined, disk: number): void {
    this.instanceCount[slot] += sign;
    if (reserved) this.pendingCount[slot] += sign;
    this.cpuRequestedMilli[slot] += sign * cpuMilli;
    this.cpuFreeMilli[slot] -= sign * cpuMilli;
    this.memoryRequested[slot] += sign * memory;
    this.memoryFree[slot] -= sign * memory;
    this.gpuRequested[slot] += sign * gpu;
    this.gpuFree[slot] -= sign * gpu;
    if (pool !== undefined && disk !== 0) {
      const columns = this.poolColumns(pool);
      columns.requested[slot] += sign * disk;
      if (columns.present[slot] === 1) columns.free[slot] -= sign * disk;
    }
  }

  groupColumn(group: string): Uint8Array {
    let column = this.groups.get(group);
    if (!column) this.groups.set(group, (column = new Uint8Array(this.capacity)));
    return column;
  }

  poolColumns(pool: string): PoolColumns {
    let columns = this.pools.get(pool);
    if (!columns) {
      const n = this.capacity;
      columns = { present: new Uint8Array(n), total: new Float64Array(n), used: new Float64Array(n), requested: new Float64Array(n), free: new Float64Array(n) };
      columns.free.fill(-Infinity);
      this.pools.set(pool, columns);
    }
    return columns;
  }

  private updateCapacity(slot: number): void {
    this.cpuCapacityMilli[slot] = capacity(this.cpuTotalMilli[slot], this.cpuRatio);
    this.memoryCapacity[slot] = capacity(this.memoryTotal[slot], this.memoryRatio);
    this.cpuFreeMilli[slot] = this.cpuCapacityMilli[slot] - this.cpuRequestedMilli[slot];
    this.memoryFree[slot] = this.memoryCapacity[slot] - this.memoryRequested[slot];
    this.gpuFree[slot] = this.gpuTotal[slot] - this.gpuRequested[slot];
  }

  private writableInfos(): MemberInfo[] {
    if (this.infosShared) {
      this.infoArray = this.infoArray.slice();
      this.infosShared = false;
    }
    return this.infoArray;
  }

  private allColumns(): Column[] {
    const out: Column[] = MEMBER_COLUMNS.map((key) => this[key]);
    for (const column of this.groups.values()) out.push(column);
    for (const pool of this.pools.values()) for (const key of POOL_COLUMNS) out.push(pool[key]);
    return out;
  }

  private grow(size: number): void {
    const from = this.capacity;
    this.capacity = size;
    const self = this as unknown as Record<(typeof MEMBER_COLUMNS)[number], Column>;
    for (const key of MEMBER_COLUMNS) self[key] = grown(self[key], size);
    for (const [group, column] of this.groups) this.groups.set(group, grown(column, size));
    this.identity = Int32Array.from({ length: size }, (_, slot) => slot);
    this.scratch = new Int32Array(size);
    for (const pool of this.pools.values()) {
      for (const key of POOL_COLUMNS) (pool as unknown as Record<string, Column>)[key] = grown(pool[key], size);
      pool.free.fill(-Infinity, from);
    }
  }
}
