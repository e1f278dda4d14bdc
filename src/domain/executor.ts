/**
 * The executor carries out instance actions on members: start, stop, move. It lives below the
 * services that call it: the store-backed executor (members without an agent) and the agent
 * executor both implement it, and one conformance suite runs against each.
 */
import type { Instance, InstanceStatus } from "./types.ts";

export interface StopOptions {
  /** Skip the clean shutdown. */
  force: boolean;
  /** Seconds a clean shutdown may take before it is forced (boot.host_shutdown_timeout). */
  timeoutS: number;
}

export interface InstanceExecutor {
  /** Whether move(…, {live: true}) is supported; if not, live-migrate falls back to migrate. */
  readonly canLiveMigrate: boolean;
  start(instance: Instance): Promise<void>;
  stop(instance: Instance, options: StopOptions): Promise<void>;
  /** Moves the instance to the target member. Its running state is the caller's business. */
  move(instance: Instance, target: string, options: { live: boolean }): Promise<void>;
  /**
   * How a move of the instance from one member to another would carry it, where the executor
   * makes a difference (lxd agents): "migrate" (its root filesystem travels, LXD's migration API)
   * or "recreate" (created afresh from its image on the target). Undefined: nothing to say.
   */
  moveMethod?(instance: Instance, from: string, to: string): MoveMethod | undefined;
}

export type MoveMethod = "migrate" | "recreate";

/** Where an executor records what it did. */
export interface InstanceRecorder {
  recordStatus(project: string, name: string, status: InstanceStatus): Promise<void>;
  recordLocation(project: string, name: string, location: string): Promise<void>;
}
