/**
 * Everything one decision needs, resolved once before the scan: column references, the request
 * in the view's units, group masks and slot numbers instead of names. Filters and rankers read
 * only this object, so the per-member loop does no lookups and no allocation.
 */
import { hostArchitecturesFor } from "./architectures.ts";
import type { ClusterView } from "./clusterView.ts";
import type { MemberColumns } from "./memberColumns.ts";
import type { PlacementRequest, SchedulerConfig } from "./types.ts";

export const STRATEGY_CODES = { count: 0, spread: 1, pack: 2 } as const;

export const TARGET_NONE = 0;
export const TARGET_MEMBER = 1;
export const TARGET_GROUP = 2;

const EMPTY_POOL = new Float64Array(0);
const EMPTY_MASK = new Uint8Array(0);

export class PreparedRequest {
  readonly size: number;
  readonly columns: MemberColumns;
  // The request, in the view's units.
  readonly cpuMilli: number;
  readonly memory: number;
  readonly disk: number;
  readonly gpu: number;
  readonly cpuRatio: number;
  readonly memoryRatio: number;
  // Root disk pool columns; checkDisk is false when no disk is asked for. poolFree is −Infinity
  // where the member lacks the pool (for a pool nobody reports: everywhere).
  readonly checkDisk: boolean;
  readonly poolPresent: Uint8Array;
  readonly poolTotal: Float64Array;
  readonly poolRequested: Float64Array;
  readonly poolFree: Float64Array;
  // Target: a slot (-1 when the named member is unknown) or a group mask (empty when unknown).
  readonly targetKind: number;
  readonly targetSlot: number;
  readonly targetGroupMask: Uint8Array;
  readonly excludeSlots: readonly number[];
  /** null = unrestricted project. */
  readonly allowedGroupMasks: readonly Uint8Array[] | null;
  /** Architecture codes a member may have; anyArchitecture skips the check. */
  readonly anyArchitecture: boolean;
  readonly archA: number;
  readonly archB: number;
  readonly strategy: number;
  readonly seed: number;

  constructor(view: ClusterView, readonly request: PlacementRequest, readonly config: SchedulerConfig, seed: number) {
    const c = (this.columns = view.columns);
    c.useRatios(config.cpuAllocationRatio, config.memoryAllocationRatio);
    this.size = c.size;
    const r = request.request;
    this.cpuMilli = Math.round((r.cpu || 0) * 1000);
    this.memory = r.memory || 0;
    this.disk = r.disk || 0;
    this.gpu = r.gpu || 0;
    this.cpuRatio = config.cpuAllocationRatio;
    this.memoryRatio = config.memoryAllocationRatio;

    // Pool columns are read for the free-disk figure whenever a pool is named, checked only when disk > 0.
    const pool = request.pool !== undefined ? c.pools.get(request.pool) : undefined;
    this.checkDisk = this.disk > 0 && request.pool !== undefined;
    this.poolPresent = pool?.present ?? EMPTY_MASK; // a pool nobody reports: every member lacks it
    this.poolTotal = pool?.total ?? EMPTY_POOL;
    this.poolRequested = pool?.requested ?? EMPTY_POOL;
    this.poolFree = pool?.free ?? (this.checkDisk ? new Float64Array(c.size).fill(-Infinity) : EMPTY_POOL);

    const target = request.target;
    if (target && "member" in target) {
      this.targetKind = TARGET_MEMBER;
      this.targetSlot = view.slot(target.member);
      this.targetGroupMask = EMPTY_MASK;
    } else if (target && "group" in target) {
      this.targetKind = TARGET_GROUP;
      this.targetSlot = -1;
      this.targetGroupMask = c.groups.get(target.group) ?? EMPTY_MASK;
    } else {
      this.targetKind = TARGET_NONE;
      this.targetSlot = -1;
      this.targetGroupMask = EMPTY_MASK;
    }
    this.excludeSlots = (request.excludeMembers ?? []).map((name) => view.slot(name)).filter((slot) => slot >= 0);
    this.allowedGroupMasks = request.allowedGroups === null
      ? null
      : request.allowedGroups.flatMap((group) => c.groups.get(group) ?? []);

    this.anyArchitecture = request.architecture === "";
    const hosts = this.anyArchitecture ? [] : hostArchitecturesFor(request.architecture);
    this.archA = hosts.length > 0 ? view.architectureCode(hosts[0]) : -1;
    this.archB = hosts.length > 1 ? view.architectureCode(hosts[1]) : -1;
    this.strategy = STRATEGY_CODES[config.strategy];
    this.seed = seed >>> 0;
  }
}

/** Reads one byte of a mask that may be shorter than the view (an unknown group or pool). */
export function maskHas(mask: Uint8Array, slot: number): boolean {
  return slot < mask.length && mask[slot] === 1;
}
