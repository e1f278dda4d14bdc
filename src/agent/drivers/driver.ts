/**
 * How an agent runs instances. Every method is idempotent — starting a running instance or
 * stopping a stopped one does nothing — and status is the driver's own check, never what was last
 * ordered, so the agent can reconcile level-triggered (reconcile.ts).
 */
import type { Logger } from "pino";
import type { MemberResources } from "../../domain/types.ts";
import type { DesiredInstance, DriverName, MigrationOffer, ObservedStatus } from "../protocol.ts";

/** One look at an instance. */
export interface Observation {
  status: ObservedStatus;
  pid?: number;
  /** Why it is in Error (e.g. "exited with code 3"). */
  reason?: string;
  /** When its current or last run started and ended (epoch ms), where the driver knows. */
  startedAt?: number;
  endedAt?: number;
}

export interface Driver {
  readonly name: DriverName;
  /** How often the agent asks for status of every instance (ms): how soon a crash is seen. */
  readonly observeIntervalMs: number;
  /** Starts it; resolves once it runs. Throws an Error whose message says why it could not start. */
  start(instance: DesiredInstance): Promise<void>;
  /** Stops it: cleanly within timeoutS seconds, then by force. Also clears an Error. */
  stop(instance: DesiredInstance, timeoutS: number): Promise<void>;
  status(instance: DesiredInstance): Promise<Observation>;
  /** The instance's recent output, at most 64 KiB ("" where the driver keeps none). */
  log(instance: { project: string; name: string }): Promise<string>;
  /**
   * Berth changed the instance's definition (config, devices, profiles, description) from
   * `previous`: applies the change to what runs it, if the driver keeps such a thing (lxd: the
   * container). Resolves true when it changed anything.
   */
  update?(instance: DesiredInstance, previous: DesiredInstance): Promise<boolean>;
  /** After a stop, when the instance is no longer listed here (moved away, deleted): removes what the driver keeps of it. */
  remove?(instance: DesiredInstance): Promise<void>;
  /** Instances the driver finds that this member owns, whether or not the agent has a record of them (lxd: the user.berth.* key). */
  owned?(): Promise<DesiredInstance[]>;
  /**
   * Makes sure something that outlives the agent enforces the fence lease on this driver's
   * instances (lxd: the fence watcher; the process driver's supervisors do it per instance). Called
   * before anything starts, and again at every look, so a helper that died is replaced.
   */
  ensureFencing?(): Promise<void>;
  /** What the driver knows better than systeminformation (lxd: LXD's own resources and pools). */
  resources?(): Promise<Partial<MemberResources>>;
  /** The source side of a move that carries the root filesystem: prepares it and says where to pull it from. */
  migrateOut?(instance: { project: string; name: string }): Promise<MigrationOffer>;
  /** The target side: creates the instance here by pulling it from the source's offer. */
  migrateIn?(instance: DesiredInstance, offer: MigrationOffer): Promise<void>;
}

/** What every driver is given. */
export interface DriverContext {
  /** The agent's data directory (files.ts). */
  data: string;
  /** The member this agent runs as (BERTH_MEMBER). */
  member: string;
  logger: Logger;
}

/** The environment of an instance's command or hook: who and where it is. */
export function instanceEnv(ctx: DriverContext, i: { project: string; name: string }): Record<string, string> {
  return { BERTH_INSTANCE: i.name, BERTH_PROJECT: i.project, BERTH_MEMBER: ctx.member };
}

/** The agent's own environment without BERTH_* (those describe the agent, not the instance). */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("BERTH_")) env[k] = v;
  return env;
}
