/**
 * Members stored column-wise: one typed array per number, indexed by slot. A decision scans
 * these arrays in a tight loop without touching per-member objects, which is what makes 5,000
 * members cheap. Slots are dense: removing a member moves the last slot into its place.
 */
import { capacity } from "./capacity.ts";
import type { MemberInfo } from "./types.ts";

/** Disk accounting for one storage pool, by member slot. */
export interface PoolColumns {
  present: Uint8Array; // 1 when the member reports this pool
  total: Float64Array;
  used: Float64Array; // reported
  requested: Float64Array; // root disks of the member's instances and reservations on this pool
}

type Column = Uint8Array | Int32Array | Uint32Array | Float64Array;

function grown<T extends Column>(column: T, capacity: number): T {
  const next = new (column.constructor as new (n: number) => T)(capacity);
  next.set(column);
  return next;
}

export class MemberColumns {
  size = 0;
  private capacity: number;
  readonly names: string[] = [];
  /** Copy-on-write: a decision keeps a reference for its lazy reasons (see snapshotInfos), and the
   *  next change copies the array instead of mutating what that decision holds. */
  private infoArray: MemberInfo[] = [];
  private infosShared = false;
  statusCode: Uint8Array; // index into MEMBER_STATUSES; 0 = Online
  modeCode: Uint8Array; // SCHEDULER_MODE_CODES
  archCode: Int32Array; // interned canonical architecture
  nameHash: Uint32Array; // hashString(name), for seeded tie-breaks
  cpuTotalMilli: Float64Array; // logical cpus × 1000
  memoryTotal: Float64Array;
  reportedFreeMemory: Float64Array; // memoryTotal − memoryUsed
  gpuTotal: Float64Array;
  load1m: Float64Array;
  // cpuTotalMilli and memoryTotal × the allocation ratios last asked for (see useRatios).
  cpuCapacityMilli: Float64Array;
  memoryCapacity: Float64Array;
  private cpuRatio = Number.NaN;
  private memoryRatio = Number.NaN;
  // Requested by instances and reservations. Cpu in millicores keeps sums exact (0.1 + 0.2 − 0.1 − 0.2 = 0).
  instanceCount: Int32Array;
  pendingCount: Int32Array;
  cpuRequestedMilli: Float64Array;
  memoryRequested: Float64Array;
  gpuRequested: Float64Array;
  readonly groups = new Map<string, Uint8Array>();
  readonly pools = new Map<string, PoolColumns>();

  constructor(initialCapacity = 64) {
    const n = (this.capacity = initialCapacity);
    this.statusCode = new Uint8Array(n);
    this.modeCode = new Uint8Array(n);
    this.archCode = new Int32Array(n);
    this.nameHash = new Uint32Array(n);
    this.cpuTotalMilli = new Float64Array(n);
    this.memoryTotal = new Float64Array(n);
    this.reportedFreeMemory = new Float64Array(n);
    this.gpuTotal = new Float64Array(n);
    this.load1m = new Float64Array(n);
    this.cpuCapacityMilli = new Float64Array(n);
    this.memoryCapacity = new Float64Array(n);
    this.instanceCount = new Int32Array(n);
    this.pendingCount = new Int32Array(n);
    this.cpuRequestedMilli = new Float64Array(n);
    this.memoryRequested = new Float64Array(n);
    this.gpuRequested = new Float64Array(n);
  }

  /** Makes the capacity columns hold totals × these ratios; recomputes only when the ratios
   *  change (a config change), so a decision does not multiply and floor per member. */
  useRatios(cpuRatio: number, memoryRatio: number): void {
    if (cpuRatio === this.cpuRatio && memoryRatio === this.memoryRatio) return;
    this.cpuRatio = cpuRatio;
    this.memoryRatio = memoryRatio;
    for (let slot = 0; slot < this.size; slot++) this.updateCapacity(slot);
  }

  /** Sets a member's totals and keeps its capacities in step. */
  setTotals(slot: number, cpuTotalMilli: number, memoryTotal: number): void {
    this.cpuTotalMilli[slot] = cpuTotalMilli;
    this.memoryTotal[slot] = memoryTotal;
    this.updateCapacity(slot);
  }

  private updateCapacity(slot: number): void {
    this.cpuCapacityMilli[slot] = capacity(this.cpuTotalMilli[slot], this.cpuRatio);
    this.memoryCapacity[slot] = capacity(this.memoryTotal[slot], this.memoryRatio);
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

  private writableInfos(): MemberInfo[] {
    if (this.infosShared) {
      this.infoArray = this.infoArray.slice();
      this.infosShared = false;
    }
    return this.infoArray;
  }

  /** Appends an empty slot and returns it (every column zeroed). */
  appendSlot(name: string, info: MemberInfo): number {
    if (this.size === this.capacity) this.grow(this.capacity * 2);
    const slot = this.size++;
    this.names[slot] = name;
    this.writableInfos()[slot] = info;
    for (const column of this.allColumns()) column[slot] = 0;
    return slot;
  }

  /** Removes a slot by moving the last one into it; returns the name now at `slot` (or null). */
  removeSlot(slot: number): string | null {
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

  groupColumn(group: string): Uint8Array {
    let column = this.groups.get(group);
    if (!column) this.groups.set(group, (column = new Uint8Array(this.capacity)));
    return column;
  }

  poolColumns(pool: string): PoolColumns {
    let columns = this.pools.get(pool);
    if (!columns) {
      const n = this.capacity;
      columns = { present: new Uint8Array(n), total: new Float64Array(n), used: new Float64Array(n), requested: new Float64Array(n) };
      this.pools.set(pool, columns);
    }
    return columns;
  }

  private allColumns(): Column[] {
    const out: Column[] = [
      this.statusCode, this.modeCode, this.archCode, this.nameHash, this.cpuTotalMilli, this.memoryTotal,
      this.reportedFreeMemory, this.gpuTotal, this.load1m, this.cpuCapacityMilli, this.memoryCapacity, this.instanceCount, this.pendingCount, this.cpuRequestedMilli,
      this.memoryRequested, this.gpuRequested,
    ];
    for (const column of this.groups.values()) out.push(column);
    for (const p of this.pools.values()) out.push(p.present, p.total, p.used, p.requested);
    return out;
  }

  private grow(capacity: number): void {
    this.capacity = capacity;
    this.statusCode = grown(this.statusCode, capacity);
    this.modeCode = grown(this.modeCode, capacity);
    this.archCode = grown(this.archCode, capacity);
    this.nameHash = grown(this.nameHash, capacity);
    this.cpuTotalMilli = grown(this.cpuTotalMilli, capacity);
    this.memoryTotal = grown(this.memoryTotal, capacity);
    this.reportedFreeMemory = grown(this.reportedFreeMemory, capacity);
    this.gpuTotal = grown(this.gpuTotal, capacity);
    this.load1m = grown(this.load1m, capacity);
    this.cpuCapacityMilli = grown(this.cpuCapacityMilli, capacity);
    this.memoryCapacity = grown(this.memoryCapacity, capacity);
    this.instanceCount = grown(this.instanceCount, capacity);
    this.pendingCount = grown(this.pendingCount, capacity);
    this.cpuRequestedMilli = grown(this.cpuRequestedMilli, capacity);
    this.memoryRequested = grown(this.memoryRequested, capacity);
    this.gpuRequested = grown(this.gpuRequested, capacity);
    for (const [group, column] of this.groups) this.groups.set(group, grown(column, capacity));
    for (const p of this.pools.values()) {
      p.present = grown(p.present, capacity);
      p.total = grown(p.total, capacity);
      p.used = grown(p.used, capacity);
      p.requested = grown(p.requested, capacity);
    }
  }
}
