/** The scheduler's inputs and outputs. Inputs come from the service; nothing here does I/O. */
import type { ResourceRequest } from "../domain/instanceConfig.ts";
import type { Strategy } from "../domain/serverConfig.ts";
import type { MemberStatus, PlacementReason, SchedulerMode } from "../domain/types.ts";

/** What the service tells the view about one member (from its record and last heartbeat). */
export interface MemberInput {
  name: string;
  architecture: string;
  failureDomain: string;
  /** The caller decides group membership; the view does not add "default" by itself. */
  groups: readonly string[];
  schedulerMode: SchedulerMode;
  status: MemberStatus;
  cpuTotal: number; // logical cpus
  memoryTotal: number; // bytes
  memoryUsed: number; // bytes, as reported (not what instances request)
  pools: Readonly<Record<string, { total: number; used: number }>>;
  gpuTotal: number;
  load1m: number;
}

/** The immutable, rarely changing part of a member, replaced as a whole when it changes (so earlier
 *  decisions' reasons keep what they saw). Heartbeat figures live in columns instead. */
export interface MemberInfo {
  readonly name: string;
  readonly architecture: string;
  readonly failureDomain: string;
  readonly groups: readonly string[];
  readonly schedulerMode: SchedulerMode;
}

/** A resource request plus the root disk's pool (disk is checked against that pool). */
export type PlacedRequest = ResourceRequest & { pool?: string };

export type PlacementTarget = { member: string } | { group: string };

export interface PlacementRequest {
  name: string;
  project: string;
  reason: PlacementReason;
  /** Empty string = any architecture. */
  architecture: string;
  request: ResourceRequest;
  /** Storage pool of the root disk; request.disk is checked against it. */
  pool?: string;
  target?: PlacementTarget;
  /** The project's restricted.cluster.groups; null = unrestricted, [] = no member allowed. */
  allowedGroups: readonly string[] | null;
  /** Members this placement must never use, e.g. the member being evacuated. */
  excludeMembers?: readonly string[];
}

export interface SchedulerConfig {
  strategy: Strategy;
  cpuAllocationRatio: number;
  memoryAllocationRatio: number;
}

/** A member that passed every filter, with the inputs of its score (so "why A before B?" has an answer). */
export interface RankedCandidate {
  member: string;
  /** 1 = best. */
  rank: number;
  /** Instances on the member, counting placements still in flight. */
  instanceCount: number;
  /** Placements in flight (reservations) on the member. */
  pending: number;
  /** What is left for new requests before this one: cpu in cores and memory in bytes after the
   *  allocation ratios, disk in bytes on the requested pool (null when no pool was asked for), gpu in cards. */
  free: { cpu: number; memory: number; disk: number | null; gpu: number };
  /** Memory its instances and placements in flight request (bytes): the tie-break after the instance count. */
  requestedMemory: number;
  /** memoryTotal − memoryUsed as the member reports it (shown, not ranked on). */
  reportedFreeMemory: number;
  /** Mean of the cpu and memory allocated fractions once this request is placed (spread / pack key). */
  allocated: number;
  /** Seeded random number that breaks the last tie. */
  tieBreak: number;
}

/** Why a member was dropped: the filter's name and a sentence a person can act on. */
export interface Rejection {
  member: string;
  filter: string;
  reason: string;
  /** resources filter: every resource the member is short of (the reason names them all). */
  insufficient?: InsufficientResource[];
}

/** One resource a member cannot give, as kube-scheduler's NodeResourcesFit reports it. */
export interface InsufficientResource {
  resource: "cpu" | "memory" | "disk" | "gpu";
  /** What this placement asks: cores, bytes, bytes of root disk, cards. */
  requested: number;
  /** What the member's instances and in-flight placements already request, same unit. */
  allocated: number;
  /** What the member offers: total × allocation ratio for cpu and memory, the pool's size for
   *  disk (0 when the member does not have the pool), the cards for gpu. The request fits when
   *  allocated + requested ≤ capacity. */
  capacity: number;
  /** disk only: the root disk's pool. */
  pool?: string;
}
