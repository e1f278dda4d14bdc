/** The store-backed executor: records each action as done (members that have no agent). */
import type { InstanceExecutor, InstanceRecorder, StopOptions } from "../domain/executor.ts";
import type { Instance } from "../domain/types.ts";

/**
 * `delayMs` makes every action take that long, to stand in for real members in demos and in tests
 * that need an evacuation to be caught half way (BERTH_EXECUTOR_DELAY_MS).
 */
export class StoreExecutor implements InstanceExecutor {
  readonly canLiveMigrate = false;

  constructor(private readonly recorder: InstanceRecorder, private readonly delayMs = 0) {}

  private async pause(): Promise<void> {
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
  }

  async start(instance: Instance): Promise<void> {
    await this.pause();
    await this.recorder.recordStatus(instance.project, instance.name, "Running");
  }

  async stop(instance: Instance, _options: StopOptions): Promise<void> {
    await this.pause();
    await this.recorder.recordStatus(instance.project, instance.name, "Stopped");
  }

  async move(instance: Instance, target: string, options: { live: boolean }): Promise<void> {
    if (options.live) throw new Error(`Instance "${instance.name}" cannot be live-migrated by the store executor (canLiveMigrate is false)`);
    await this.pause();
    await this.recorder.recordLocation(instance.project, instance.name, target);
  }
}
