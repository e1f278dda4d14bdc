/** Domain types shared by every layer; JSON field names are the API's (snake_case, LXD style). */

export type Architecture = string; // "x86_64", "aarch64", "i686", "armv7l", ...

export interface CpuResources {
  architecture: Architecture;
  total: number; // logical cpus
}
export interface MemoryResources {
  total: number; // bytes
  used: number; // bytes
}
export interface PoolSpace {
  total: number;
  used: number;
  /** The pool's storage driver, where the member knows it (an lxd agent reports LXD's): says whether it is remote. */
  driver?: string;
}
export interface GpuCard {
  vendor: string;
  model: string;
  memory: number; // bytes (0 when unknown)
}
export interface LoadResources {
  average_1m: number;
  average_5m: number;
  average_15m: number;
  processes: number;
}
/** What a member reports about its hardware (LXD api.Resources subset). */
export interface MemberResources {
  cpu: CpuResources;
  memory: MemoryResources;
  storage: { pools: Record<string, PoolSpace> };
  gpu: { total: number; cards: GpuCard[] };
  load: LoadResources;
}

/** LXD api.ClusterMemberState. */
export interface MemberStateReport {
  sysinfo: {
    uptime: number;
    load_averages: number[];
    total_ram: number;
    free_ram: number;
    processes: number;
    logical_cpus: number;
  };
  storage_pools: Record<string, { space: PoolSpace }>;
}

/** The stored state machine of a member: CREATED → EVACUATING → EVACUATED → RESTORING → CREATED. */
export type MemberLifecycle = "CREATED" | "EVACUATING" | "EVACUATED" | "RESTORING";
export const MEMBER_LIFECYCLES: readonly MemberLifecycle[] = ["CREATED", "EVACUATING", "EVACUATED", "RESTORING"];

/** What the API shows: lifecycle first, then liveness from heartbeats. */
export type MemberStatus = "Online" | "Offline" | "Pending" | "Evacuating" | "Evacuated" | "Restoring";
export const MEMBER_STATUSES: readonly MemberStatus[] = [
  "Online", "Offline", "Pending", "Evacuating", "Evacuated", "Restoring",
];

export type SchedulerMode = "all" | "manual" | "group";

/** A member as stored. Status and message are derived (see domain/liveness.ts). */
export interface MemberRecord {
  server_name: string;
  url: string;
  architecture: Architecture;
  failure_domain: string;
  description: string;
  roles: string[];
  config: Record<string, string>;
  state: MemberLifecycle;
  resources: MemberResources | null;
  member_state: MemberStateReport | null;
  last_heartbeat: string | null; // ISO time
  created_at: string;
}

/** A member as the API returns it (LXD api.ClusterMember shape plus Berth fields). */
export interface Member {
  server_name: string;
  url: string;
  architecture: Architecture;
  failure_domain: string;
  description: string;
  roles: string[];
  groups: string[];
  config: Record<string, string>;
  status: MemberStatus;
  message: string;
  last_heartbeat: string | null;
  resources: MemberResources | null;
  /** The member's agent (berth agent) when one reports for it: its driver and version, when it last spoke. */
  agent?: MemberAgent | null;
}

export interface MemberAgent {
  driver: string;
  version: string;
  last_seen: string;
}

export type InstanceType = "container" | "virtual-machine";
export type InstanceStatus = "Running" | "Stopped" | "Error" | "Unknown";
export const INSTANCE_STATUSES: readonly InstanceStatus[] = ["Running", "Stopped", "Error", "Unknown"];
/** LXD's status codes (api.StatusCode); LXD has no code for Unknown: 0, as an unset code. */
export const INSTANCE_STATUS_CODES: Record<InstanceStatus, number> = { Running: 103, Stopped: 102, Error: 112, Unknown: 0 };

export type Devices = Record<string, Record<string, string>>;

export interface Instance {
  name: string;
  project: string;
  type: InstanceType;
  architecture: Architecture;
  location: string;
  status: InstanceStatus;
  description: string;
  config: Record<string, string>;
  devices: Devices;
  profiles: string[];
  created_at: string;
  /** What it was created from (LXD's create `source`), kept so that a driver can create it on a member: an lxd agent does. */
  source?: InstanceSource;
}

/** LXD's instance source as Berth keeps it: an image by alias or fingerprint (and where to find it), or none (empty). */
export interface InstanceSource {
  type: "image" | "none";
  alias?: string;
  fingerprint?: string;
  server?: string;
  protocol?: string;
  properties?: Record<string, string>;
}

export interface ClusterGroup {
  name: string;
  description: string;
  members: string[];
}

export type StorageDriver = "dir" | "zfs" | "btrfs" | "lvm" | "ceph" | "cephfs" | "powerflex" | "pure" | "nfs";
export const STORAGE_DRIVERS: readonly StorageDriver[] = [
  "dir", "zfs", "btrfs", "lvm", "ceph", "cephfs", "powerflex", "pure", "nfs",
];
export const REMOTE_DRIVERS: ReadonlySet<StorageDriver> = new Set(["ceph", "cephfs", "powerflex", "pure", "nfs"]);

/** Whether a storage driver's name (Berth's own, or one an agent reports) is a remote (shared) one. */
export function isRemoteDriver(driver: string | undefined): boolean {
  return driver !== undefined && (REMOTE_DRIVERS as ReadonlySet<string>).has(driver);
}

/** LXD's pool states: Pending while defined on some members (?target=), Created once created cluster-wide. */
export type PoolStatus = "Pending" | "Created";

export interface StoragePool {
  name: string;
  driver: StorageDriver;
  description: string;
  config: Record<string, string>;
  status: PoolStatus;
  /** While Pending: the members it has been defined on. A Created pool is on every member. */
  defined_on: string[];
}

export interface Project {
  name: string;
  description: string;
  config: Record<string, string>;
}

export type TokenRole = "admin" | "viewer" | "agent";
export const TOKEN_ROLES: readonly TokenRole[] = ["admin", "viewer", "agent"];

export interface TokenInfo {
  id: string;
  role: TokenRole;
  member: string | null;
  description: string;
  created_at: string;
  last_used_at: string | null;
}

export type OperationStatus = "Pending" | "Running" | "Success" | "Failure" | "Cancelled";
export const OPERATION_STATUS_CODES: Record<OperationStatus, number> = {
  Pending: 105,
  Running: 103,
  Success: 200,
  Failure: 400,
  Cancelled: 401,
};

/** An async operation (LXD api.Operation shape). */
export interface Operation {
  id: string;
  /** "token": a trust token (POST /1.0/certificates with token: true), as LXD's certificate add token operation. */
  class: "task" | "token";
  description: string;
  created_at: string;
  updated_at: string;
  status: OperationStatus;
  status_code: number;
  resources: Record<string, string[]>;
  metadata: Record<string, unknown>;
  may_cancel: boolean;
  err: string;
  location: string;
}

export type PlacementReason = "new" | "evacuation" | "relocation";
export const PLACEMENT_REASONS: readonly PlacementReason[] = ["new", "evacuation", "relocation"];

export type EventType = "lifecycle" | "operation" | "logging";
export interface BerthEvent {
  type: EventType;
  timestamp: string;
  project?: string;
  metadata: Record<string, unknown>;
}
