/**
 * The instance records as executors and the move procedure write them: status, location and
 * Berth's own volatile.* keys, each published to the change feed (the scheduler's view and the
 * sandbox replica follow it) and emitted as a lifecycle event. Callers hold the instance's lock
 * and decide; this records. One check is made here, because it must be in the write's own
 * transaction: a new location is confirmed against what is stored on that member (another
 * replica may have filled it since the move was decided); a refusal writes nothing.
 */
import { notFound } from "../domain/errors.ts";
import type { InstanceRecorder } from "../domain/executor.ts";
import type { Instance, InstanceStatus } from "../domain/types.ts";
import type { EventBus } from "../events/bus.ts";
import type { InstancePatch, Store } from "../store/store.ts";
import type { ClusterChanges } from "./changes.ts";
import type { ConfirmPlacement } from "./placementPort.ts";

export function instanceUrl(instance: { name: string; project: string }): string {
  return `/1.0/instances/${instance.name}${instance.project === "default" ? "" : `?project=${instance.project}`}`;
}

export class InstanceRecords implements InstanceRecorder {
  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
    private readonly changes: ClusterChanges,
    /** The check of a new location against what is stored on the member (placement/confirmFit.ts); null: none (one process). */
    private readonly confirm: ConfirmPlacement | null,
  ) {}

  list(filter: { project?: string; location?: string } = {}): Promise<Instance[]> {
    return this.store.listInstances(filter);
  }

  find(project: string, name: string): Promise<Instance | undefined> {
    return this.store.getInstance(project, name);
  }

  async get(project: string, name: string): Promise<Instance> {
    const instance = await this.store.getInstance(project, name);
    if (!instance) throw notFound(`Instance "${name}" not found in project "${project}"`);
    return instance;
  }

  async recordStatus(project: string, name: string, status: InstanceStatus): Promise<void> {
    const before = await this.get(project, name);
    if (before.status === status) return;
    await this.store.setInstanceStatus(project, name, status);
    const instance = { ...before, status };
    this.changes.publish({ kind: "instance", instance });
    const action = status === "Running" ? "instance-started" : status === "Stopped" ? "instance-stopped" : "instance-updated";
    this.bus.lifecycle(action, instanceUrl(instance), { location: instance.location }, project);
  }

  /** Throws NoLongerFits (nothing written) when the instance does not fit on `location` as stored. */
  async recordLocation(project: string, name: string, location: string): Promise<void> {
    const before = await this.get(project, name);
    if (before.location === location) return;
    await this.moveInStore(before, location, { location });
    const instance = { ...before, location };
    this.changes.publish({ kind: "instance", instance, previousLocation: before.location });
    this.bus.lifecycle("instance-migrated", instanceUrl(instance), { from: before.location, to: location }, project);
  }

  /**
   * A heal's move, in one write: the marks (volatile.*), Stopped (its dead host runs nothing we can
   * see), and the new location. Published and announced as the three separate writes would be.
   * Throws NoLongerFits (nothing written) when the instance does not fit on `location` as stored.
   */
  async recordHealed(project: string, name: string, marks: Record<string, string>, location: string): Promise<Instance> {
    const before = await this.get(project, name);
    const instance: Instance = { ...before, config: { ...before.config, ...marks }, status: before.status === "Running" ? "Stopped" : before.status, location };
    await this.moveInStore(before, location, { config: instance.config, status: instance.status, location });
    this.changes.publish({ kind: "instance", instance, previousLocation: before.location });
    if (before.status !== instance.status) this.bus.lifecycle("instance-stopped", instanceUrl(before), { location: before.location }, project);
    if (before.location !== location) this.bus.lifecycle("instance-migrated", instanceUrl(instance), { from: before.location, to: location }, project);
    return instance;
  }

  /**
   * Writes `patch` (which puts the instance on `location`) in one transaction with the check that
   * the instance, as stored, fits there beside what is stored on that member. A move onto the
   * member it is on already (a resumed heal) is only written.
   */
  private async moveInStore(before: Instance, location: string, patch: InstancePatch): Promise<void> {
    const confirm = this.confirm;
    if (!confirm) return this.store.updateInstance(before.project, before.name, patch);
    await this.store.transaction(async (tx) => {
      if (before.location !== location) {
        const stored = await tx.getInstance(before.project, before.name);
        if (!stored) throw notFound(`Instance "${before.name}" not found in project "${before.project}"`);
        await confirm(tx, stored, location);
      }
      await tx.updateInstance(before.project, before.name, patch);
    });
  }

  /** Writes Berth's own config keys (volatile.*); null removes one. */
  async setVolatile(project: string, name: string, changes: Record<string, string | null>): Promise<Instance> {
    const current = await this.get(project, name);
    const config = { ...current.config };
    let changed = false;
    for (const [key, value] of Object.entries(changes)) {
      if (value === null) {
        if (key in config) changed = true;
        delete config[key];
      } else if (config[key] !== value) {
        config[key] = value;
        changed = true;
      }
    }
    if (!changed) return current;
    await this.store.updateInstance(project, name, { config });
    const instance = { ...current, config };
    this.changes.publish({ kind: "instance", instance });
    return instance;
  }
}
