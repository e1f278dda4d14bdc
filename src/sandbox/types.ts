/** Public types of the scriptlet sandbox: what the service passes in and gets back (DESIGN §4). */
import { BerthError } from "../domain/errors.ts";
import type {
  Devices, Instance, InstanceStatus, InstanceType, Member, MemberStateReport, PlacementReason, Project,
} from "../domain/types.ts";

/** What get_instance_resources() returns inside the scriptlet. */
export interface ScriptletInstanceResources {
  cpu_cores: number;
  memory_size: number; // bytes
  root_disk_size: number; // bytes
}

/** The `request` argument of instance_placement (config and devices already expanded). */
export interface ScriptletRequest {
  name: string;
  project: string;
  type: InstanceType;
  reason: PlacementReason;
  architecture: string;
  config: Record<string, string>;
  devices: Devices;
  profiles: string[];
  description: string;
  /** For get_instance_resources(); derived from config and devices when absent. Not shown in `request`. */
  resources?: ScriptletInstanceResources;
}

export type ScriptletLogLevel = "info" | "warn" | "error";
export interface ScriptletLog {
  level: ScriptletLogLevel;
  message: string;
}

/** A log line as handed to `onLog`, with the placement it belongs to. */
export interface ScriptletLogEvent extends ScriptletLog {
  instance: string;
  project: string;
  reason: PlacementReason;
}

export interface ScriptletOutcome {
  /** False when no scriptlet is installed (built-in placement) or it could not be started. */
  called: boolean;
  /** The member chosen with set_target(), or null for the built-in choice. Always null when rejected. */
  target: string | null;
  /** Why the placement is rejected: a returned string, fail(), a throw, a limit, an invalid result. */
  rejected: string | null;
  logs: ScriptletLog[];
  duration_ms: number;
  /** Set when the scriptlet failed abnormally (threw, limits, bad result); null for a deliberate rejection. */
  error: string | null;
}

export interface SandboxLimits {
  timeoutMs: number;
  memoryMb: number;
}

/** An instance as the scriptlet sees it (get_instances); a full `Instance` is accepted and trimmed. */
export interface ScriptletInstance {
  name: string;
  project: string;
  type: InstanceType;
  location: string;
  status: InstanceStatus;
  config: Record<string, string>;
  devices: Devices;
}

/** A placement decided but not yet written: counted by get_instances_count({pending: true}). */
export interface PendingPlacement {
  id: string;
  project: string;
  location: string;
  name: string;
}

/** Everything the helper functions read. Group membership comes from `Member.groups`. */
export interface ReplicaSnapshot {
  members: Member[];
  member_states: Record<string, MemberStateReport | null>;
  instances: (ScriptletInstance | Instance)[];
  pending: PendingPlacement[];
  projects: Project[];
}

/** One change to the replica; the service sends these as its store changes (ordered with calls). */
export type ReplicaDelta =
  | { kind: "member.upsert"; member: Member }
  | { kind: "member.remove"; name: string }
  | { kind: "member_state.set"; name: string; state: MemberStateReport | null }
  | { kind: "instance.upsert"; instance: ScriptletInstance | Instance }
  | { kind: "instance.remove"; project: string; name: string }
  | { kind: "pending.add"; placement: PendingPlacement }
  | { kind: "pending.remove"; id: string }
  | { kind: "project.upsert"; project: Project }
  | { kind: "project.remove"; name: string };

/** An invalid scriptlet (syntax, top-level failure, missing instance_placement): a 400 naming line:column. */
export class ScriptletError extends BerthError {
  constructor(
    message: string,
    readonly line: number | null = null,
    readonly column: number | null = null,
  ) {
    super(400, message, line === null ? undefined : { line, column });
    this.name = "ScriptletError";
  }
}
