/**
 * The agent ↔ service protocol (docs/agents.md): what travels between a `berth agent` and the
 * service, shared by both sides. All traffic is agent → service: heartbeats (resources and
 * observed state), the desired-state long-poll, and answers to the requests that ride the
 * long-poll's answer.
 */
import type { InstanceSource, MemberResources, MemberStateReport } from "./types.ts";

export type DriverName = "none" | "process" | "hook" | "lxd";
export const DRIVER_NAMES: readonly DriverName[] = ["none", "process", "hook", "lxd"];

export type DesiredPower = "Running" | "Stopped";
export type ObservedStatus = "Running" | "Stopped" | "Error";

/** One instance that should exist on this member, as the service sends it. */
export interface DesiredInstance {
  project: string;
  name: string;
  type: string;
  config: Record<string, string>;
  devices: Record<string, Record<string, string>>;
  profiles: string[];
  description: string;
  /** LXD's create `source` as given at create ({"type": "image", "alias": ...}); the lxd driver creates from it. */
  source?: InstanceSource;
  desired: DesiredPower;
  /** Healing would start it elsewhere were this member lost: its agent fences it by the fence deadline (docs/healing.md). */
  fence?: boolean;
}

/**
 * The LXD migration API's handshake between two lxd agents, carried by the service (agents open
 * no port): the source prepares a migration and hands out where and how to pull it; the target
 * pulls it from the source's LXD directly.
 */
export interface MigrationOffer {
  /** https://<source LXD core.https_address>/1.0/operations/<id> */
  operation: string;
  /** The source LXD's server certificate (PEM), which the target checks. */
  certificate: string;
  /** The operation's websocket secrets ({control, fs}). */
  secrets: Record<string, string>;
  /** The instance's architecture on the source (LXD needs it to create the target). */
  architecture: string;
}

/** Something the service asks of the agent; answered with POST .../answers/{id}. */
export interface AgentRequest {
  id: string;
  /** log: the instance's recent output; migrate-out / migrate-in: the LXD migration handshake (lxd driver). */
  kind: "log" | "migrate-out" | "migrate-in";
  project: string;
  name: string;
  /** migrate-in: the instance as it should be created on the target, and the source's offer. */
  instance?: DesiredInstance;
  offer?: MigrationOffer;
}

/** POST .../answers/{id}: body. */
export interface AgentAnswer {
  log?: string;
  offer?: MigrationOffer;
  /** The request failed: why. */
  error?: string;
}

/** GET /1.0/cluster/members/{name}/desired: metadata. */
export interface DesiredState {
  revision: number;
  instances: DesiredInstance[];
  requests: AgentRequest[];
}

/** One instance as the agent observes it. */
export interface ObservedInstance {
  project: string;
  name: string;
  status: ObservedStatus;
  pid?: number;
  /** Why it is in Error (e.g. "exited with code 3"). */
  reason?: string;
}

/** POST /1.0/cluster/members/{name}/heartbeat: body. `instances` is always the complete list. */
export interface HeartbeatBody {
  resources?: MemberResources;
  /** LXD's ClusterMemberState (uptime, load, memory, pools), as the embedded local member sends it. */
  state?: MemberStateReport;
  agent?: { version: string; driver: DriverName };
  instances?: ObservedInstance[];
  /** The healing threshold (s) the agent's fence lease runs on (fenceLease.ts). */
  healing_threshold?: number;
}

/** POST /1.0/cluster/members/{name}/heartbeat: metadata (times in seconds). */
export interface HeartbeatAnswer {
  status: string;
  message: string;
  offline_threshold: number;
  heartbeat_interval?: number;
  /** The healing threshold the service now judges this member by (0: healing off). */
  healing_threshold?: number;
  /** How long before that threshold the supervisors fence (docs/healing.md). */
  fence_margin?: number;
}
