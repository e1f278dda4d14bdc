/**
 * The instance records as executors and the move procedure write them: status, location and
 * Berth's own volatile.* keys, each published to the change feed (the scheduler's view and the
 * sandbox replica follow it) and emitted as a lifecycle event. No checks here: callers hold the
 * instance's lock and decide; this only records.
 */
import { notFound } from "../domain/errors.ts";
import type { InstanceRecorder } from "../domain/executor.ts";
import type { Instance, InstanceStatus } from "../domain/types.ts";
import type { EventBus } from "../events/bus.ts";
import type { Store } from "../store/store.ts";
import type { ClusterChanges } from "./changes.ts";

export function instanceUrl(instance: { name: string; project: string }): string {
  return `/1.0/instances/${instance.name}${instance.project === "default" ? "" : `?project=${instance.project}`}`;
}

export class InstanceRecords implements InstanceRecorder {
  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
    private readonly changes: ClusterChanges,
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

  async recordLocation(project: string, name: string, location: string): Promise<void> {
    const before = await this.get(project, name);
    if (before.location === location) return;
    await this.store.updateInstance(project, name, { location });
    const instance = { ...before, location };
    this.changes.publish({ kind: "instance", instance, previousLocation: before.location });
    this.bus.lifecycle("instance-migrated", instanceUrl(instance), { from: before.location, to: location }, project);
  }

  /**
   * A heal's move, in one write: the marks (volatile.*), Stopped (its dead host runs nothing we can
   * see), and the new location. Published and announced as the three separate writes would be.
   */
  async recordHealed(project: string, name: string, marks: Record<string, string>, location: string): Promise<Instance> {
    const before = await this.get(project, name);
    const instance: Instance = { ...before, config: { ...before.config, ...marks }, status: before.status === "Running" ? "Stopped" : before.status, location };
    await this.store.updateInstance(project, name, { config: instance.config, status: instance.status, location });
    this.changes.publish({ kind: "instance", instance, previousLocation: before.location });
    if (before.status !== instance.status) this.bus.lifecycle("instance-stopped", instanceUrl(before), { location: before.location }, project);
    if (before.location !== location) this.bus.lifecycle("instance-migrated", instanceUrl(instance), { from: before.location, to: location }, project);
    return instance;
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
