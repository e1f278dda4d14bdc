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

/**
 * Records each action as done. `delayMs` makes every action take that long, to stand in for real
 * members in demos and in tests that need an evacuation to be caught half way (BERTH_EXECUTOR_DELAY_MS).
 */
export class StoreExecutor implements InstanceExecutor {
  readonly canLiveMigrate = false;

  constructor(private readonly recorder: InstanceRecorder, private readonly delayMs = 0) {}

  private async pause(): Promise<void> {
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
  }

  async start(instance: Instance): Promise<void> {
    await this.pause();
    this.recorder.recordStatus(instance.project, instance.name, "Running");
  }

  async stop(instance: Instance, _options: StopOptions): Promise<void> {
    await this.pause();
    this.recorder.recordStatus(instance.project, instance.name, "Stopped");
  }

  async move(instance: Instance, target: string, _options: { live: boolean }): Promise<void> {
    await this.pause();
    this.recorder.recordLocation(instance.project, instance.name, target);
  }
}
