/**
 * The scheduler's in-memory picture of the cluster. The service feeds it as members and
 * instances change; a decision reads it and never goes back to storage.
 *
 * Accounting is by allocation key (`project/name`). An instance and a reservation may share a
 * key: while an instance moves, it holds resources on its old member (the instance) and on its
 * new one (the reservation) until commit() says the move is done.
 */
import { MEMBER_STATUSES } from "../domain/types.ts";
import type { MemberStatus, SchedulerMode } from "../domain/types.ts";
import { canonicalArchitecture } from "./architectures.ts";
import { MemberColumns, MODE_ALL, ONLINE } from "./memberColumns.ts";
import { hashString } from "./seed.ts";
import type { MemberInfo, MemberInput, PlacedRequest } from "./types.ts";

export const SCHEDULER_MODE_CODES: Readonly<Record<SchedulerMode, number>> = { all: MODE_ALL, manual: 1, group: 2 };
// Status codes are indexes into MEMBER_STATUSES, and the filters test for Online as code 0.
if (MEMBER_STATUSES[ONLINE] !== "Online") throw new Error("MEMBER_STATUSES must start with Online");

interface Allocation {
  readonly key: string;
  member: string;
  readonly reserved: boolean;
  readonly cpuMilli: number;
  readonly memory: number;
  readonly disk: number;
  readonly pool: string | undefined;
  readonly gpu: number;
}

/** What a member's instances and in-flight placements request (for scriptlets, tests, the API). */
export interface MemberUsage {
  instanceCount: number; // including reservations
  pending: number;
  cpu: number; // cores
  memory: number; // bytes
  gpu: number;
  disk: Record<string, number>; // bytes per pool
}

const toMilli = (cores: number): number => Math.round((cores || 0) * 1000);

export class ClusterView {
  /** Column storage read by the pipeline's hot loop. Mutate only through this class. */
  readonly columns = new MemberColumns();
  private readonly slotOf = new Map<string, number>();
  private readonly archCodes = new Map<string, number>();
  private readonly instances = new Map<string, Allocation>();
  private readonly reservations = new Map<string, Allocation>();
  /** Every allocation by member name, kept even while the member is absent from the view, so a
   *  member that is removed and upserted again (or upserted after its instances) is counted right. */
  private readonly byMember = new Map<string, Set<Allocation>>();

  get size(): number {
    return this.columns.size;
  }
  has(name: string): boolean {
    return this.slotOf.has(name);
  }
  memberNames(): string[] {
    return this.columns.names.slice(0, this.columns.size);
  }
  slot(name: string): number {
    return this.slotOf.get(name) ?? -1;
  }
  info(name: string): MemberInfo | undefined {
    const slot = this.slot(name);
    return slot < 0 ? undefined : this.columns.info(slot);
  }
  /** Interned code of a canonical architecture, or -1 when no member has ever reported it. */
  architectureCode(name: string): number {
    return this.archCodes.get(canonicalArchitecture(name)) ?? -1;
  }

  upsertMember(input: MemberInput): void {
    const c = this.columns;
    const info: MemberInfo = {
      name: input.name, architecture: canonicalArchitecture(input.architecture), failureDomain: input.failureDomain,
      groups: [...input.groups], schedulerMode: input.schedulerMode,
    };
    let slot = this.slotOf.get(input.name);
    const isNew = slot === undefined;
    if (slot === undefined) {
      slot = c.appendSlot(input.name, info);
      this.slotOf.set(input.name, slot);
      c.nameHash[slot] = hashString(input.name);
    } else if (!sameInfo(c.info(slot), info)) {
      c.setInfo(slot, info); // heartbeats usually change numbers only: no copy then
    }
    c.setStatus(slot, statusCode(input.status));
    c.setMode(slot, SCHEDULER_MODE_CODES[input.schedulerMode]);
    c.archCode[slot] = this.internArchitecture(info.architecture);
    c.setTotals(slot, toMilli(input.cpuTotal), input.memoryTotal, input.gpuTotal);
    c.reportedFreeMemory[slot] = input.memoryTotal - input.memoryUsed;
    c.load1m[slot] = input.load1m;
    for (const column of c.groups.values()) column[slot] = 0;
    for (const group of info.groups) c.groupColumn(group)[slot] = 1;
    c.setPools(slot, input.pools);
    if (isNew) for (const allocation of this.byMember.get(input.name) ?? []) this.account(allocation, slot, 1);
  }

  removeMember(name: string): boolean {
    const slot = this.slotOf.get(name);
    if (slot === undefined) return false;
    this.slotOf.delete(name);
    const moved = this.columns.removeSlot(slot);
    if (moved !== null) this.slotOf.set(moved, slot);
    return true;
  }

  setStatus(name: string, status: MemberStatus): boolean {
    const slot = this.slotOf.get(name);
    if (slot === undefined) return false;
    this.columns.setStatus(slot, statusCode(status));
    return true;
  }

  status(name: string): MemberStatus | undefined {
    const slot = this.slotOf.get(name);
    return slot === undefined ? undefined : MEMBER_STATUSES[this.columns.statusCode[slot]];
  }

  /** Records an instance on a member; an instance already known under `key` is replaced. */
  addInstance(key: string, member: string, request: PlacedRequest): void {
    this.removeInstance(key);
    this.link(this.instances, allocationOf(key, member, request, false));
  }

  removeInstance(key: string): boolean {
    return this.unlink(this.instances, key);
  }

  moveInstance(key: string, toMember: string): boolean {
    const allocation = this.instances.get(key);
    if (!allocation) return false;
    this.unlink(this.instances, key);
    allocation.member = toMember;
    this.link(this.instances, allocation);
    return true;
  }

  instanceLocation(key: string): string | undefined {
    return this.instances.get(key)?.member;
  }

  /** Every instance placed (not reservations), as [key, member]. */
  instanceLocations(): [key: string, member: string][] {
    return [...this.instances.values()].map((a) => [a.key, a.member]);
  }

  /** Holds resources for a placement in flight; counts at once, so a concurrent decision sees it. */
  reserve(key: string, member: string, request: PlacedRequest): void {
    if (this.reservations.has(key)) throw new Error(`A placement of "${key}" is already in flight`);
    this.link(this.reservations, allocationOf(key, member, request, true));
  }

  /** The placement landed: the reservation becomes the instance (replacing its old location). */
  commit(key: string): boolean {
    const reservation = this.reservations.get(key);
    if (!reservation) return false;
    this.unlink(this.reservations, key);
    this.removeInstance(key);
    this.link(this.instances, { ...reservation, reserved: false });
    return true;
  }

  release(key: string): boolean {
    return this.unlink(this.reservations, key);
  }

  reservationOf(key: string): string | undefined {
    return this.reservations.get(key)?.member;
  }

  pendingCount(member: string): number {
    const slot = this.slotOf.get(member);
    return slot === undefined ? 0 : this.columns.pendingCount[slot];
  }

  instanceCount(member: string): number {
    const slot = this.slotOf.get(member);
    return slot === undefined ? 0 : this.columns.instanceCount[slot];
  }

  usage(member: string): MemberUsage | undefined {
    const slot = this.slotOf.get(member);
    if (slot === undefined) return undefined;
    const c = this.columns;
    const disk: Record<string, number> = {};
    for (const [name, pool] of c.pools) if (pool.requested[slot] !== 0) disk[name] = pool.requested[slot];
    return {
      instanceCount: c.instanceCount[slot], pending: c.pendingCount[slot], cpu: c.cpuRequestedMilli[slot] / 1000,
      memory: c.memoryRequested[slot], gpu: c.gpuRequested[slot], disk,
    };
  }

  private link(table: Map<string, Allocation>, allocation: Allocation): void {
    table.set(allocation.key, allocation);
    let set = this.byMember.get(allocation.member);
    if (!set) this.byMember.set(allocation.member, (set = new Set()));
    set.add(allocation);
    const slot = this.slotOf.get(allocation.member);
    if (slot !== undefined) this.account(allocation, slot, 1);
  }

  private unlink(table: Map<string, Allocation>, key: string): boolean {
    const allocation = table.get(key);
    if (!allocation) return false;
    table.delete(key);
    const set = this.byMember.get(allocation.member);
    set?.delete(allocation); // an empty set stays: recreating one per reserve/release costs more
    const slot = this.slotOf.get(allocation.member);
    if (slot !== undefined) this.account(allocation, slot, -1);
    return true;
  }

  private account(a: Allocation, slot: number, sign: 1 | -1): void {
    this.columns.account(slot, sign, a.reserved, a.cpuMilli, a.memory, a.gpu, a.pool, a.disk);
  }

  private internArchitecture(canonical: string): number {
    let code = this.archCodes.get(canonical);
    if (code === undefined) this.archCodes.set(canonical, (code = this.archCodes.size));
    return code;
  }
}

function sameInfo(a: MemberInfo, b: MemberInfo): boolean {
  return a.architecture === b.architecture && a.failureDomain === b.failureDomain &&
    a.schedulerMode === b.schedulerMode && a.groups.length === b.groups.length &&
    a.groups.every((group, k) => group === b.groups[k]);
}

function statusCode(status: MemberStatus): number {
  const code = MEMBER_STATUSES.indexOf(status);
  if (code < 0) throw new Error(`Unknown member status ${JSON.stringify(status)}`);
  return code;
}

function allocationOf(key: string, member: string, r: PlacedRequest, reserved: boolean): Allocation {
  return {
    key, member, reserved, cpuMilli: toMilli(r.cpu), memory: r.memory || 0, disk: r.disk || 0, pool: r.pool, gpu: r.gpu || 0,
  };
}
