/**
 * The executor carries out instance actions on members: start, stop, move. The store-backed
 * executor only records the outcome (clusters without agents); agents implement the same interface.
 */
import type { Instance, InstanceStatus } from "../domain/types.ts";

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
}

/** Where an executor records what it did. */
export interface InstanceRecorder {
  recordStatus(project: string, name: string, status: InstanceStatus): void;
  recordLocation(project: string, name: string, location: string): void;
}

export class StoreExecutor implements InstanceExecutor {
  readonly canLiveMigrate = false;

  constructor(private readonly recorder: InstanceRecorder) {}

  async start(instance: Instance): Promise<void> {
    this.recorder.recordStatus(instance.project, instance.name, "Running");
  }

  async stop(instance: Instance, _options: StopOptions): Promise<void> {
    this.recorder.recordStatus(instance.project, instance.name, "Stopped");
  }

  async move(instance: Instance, target: string, _options: { live: boolean }): Promise<void> {
    this.recorder.recordLocation(instance.project, instance.name, target);
  }
}
