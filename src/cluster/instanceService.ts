/** Instances: create (placed by the scheduler or on a target), update, delete, start/stop, and the records executors write. */
import { badRequest, conflict, notFound } from "../domain/errors.ts";
import { validateDevices, validateInstanceConfig, VOLATILE_KEYS } from "../domain/instanceConfig.ts";
import { checkName } from "../domain/names.ts";
import type { Devices, Instance, InstanceStatus, InstanceType, PlacementReason } from "../domain/types.ts";
import type { EventBus } from "../events/bus.ts";
import type { InstanceExecutor, InstanceRecorder } from "../members/executor.ts";
import type { Store } from "../store/store.ts";
import type { ClusterChanges } from "./changes.ts";

export interface InstanceInput {
  name: string;
  type?: InstanceType;
  architecture?: string;
  description?: string;
  config?: Record<string, string>;
  devices?: Devices;
  profiles?: string[];
  start?: boolean;
}

export type InstanceUpdate = Partial<Pick<Instance, "description" | "config" | "devices" | "profiles">>;

/** A placement decided and reserved; commit once the instance is stored, release if that fails. */
export interface PlacementTicket {
  location: string;
  /** The chosen member's architecture (what an instance that named none gets). */
  architecture: string;
  commit(): void;
  release(): void;
}

export interface PlacementRequestInput {
  instance: Instance;
  reason: PlacementReason;
  /** "node2" or "@group", as the ?target= query parameter. */
  target?: string;
  exclude?: string[];
}

/** What decides where an instance goes (the scheduler, with or without a scriptlet). */
export interface InstancePlacement {
  place(input: PlacementRequestInput): Promise<PlacementTicket>;
}

const VOLATILE: ReadonlySet<string> = new Set(VOLATILE_KEYS);

export class InstanceService implements InstanceRecorder {
  executor!: InstanceExecutor;
  placement!: InstancePlacement;
  /** Whether a project exists (the project service's cache). */
  projectExists: (name: string) => boolean = (name) => this.store.getProject(name) !== undefined;

  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
    private readonly changes: ClusterChanges,
    private readonly now: () => number,
  ) {}

  list(filter: { project?: string; location?: string } = {}): Instance[] {
    return this.store.listInstances(filter);
  }

  get(project: string, name: string): Instance {
    const instance = this.store.getInstance(project, name);
    if (!instance) throw notFound(`Instance "${name}" not found in project "${project}"`);
    return instance;
  }

  async create(project: string, input: InstanceInput, target: string | undefined): Promise<Instance> {
    const name = checkName("name", input.name);
    if (!this.projectExists(project)) throw notFound(`Project "${project}" not found`);
    const config = input.config ?? {};
    validateInstanceConfig(config);
    for (const key of Object.keys(config)) {
      if (VOLATILE.has(key)) throw badRequest(`config["${key}"] is written by Berth and cannot be set`);
    }
    const devices = input.devices ?? {};
    this.checkDevices(devices);
    if (this.store.getInstance(project, name)) throw conflict(`Instance "${name}" already exists in project "${project}"`);
    const draft: Instance = {
      name, project, type: input.type ?? "container", architecture: input.architecture ?? "",
      location: "", status: "Stopped", description: input.description ?? "", config, devices,
      profiles: input.profiles ?? ["default"], created_at: new Date(this.now()).toISOString(),
    };
    const ticket = await this.placement.place({ instance: draft, reason: "new", target });
    const instance: Instance = { ...draft, location: ticket.location };
    if (!instance.architecture) instance.architecture = ticket.architecture;
    try {
      this.store.insertInstance(instance);
    } catch (err) {
      ticket.release();
      // The name was taken while the placement was decided: the unique index says so.
      if ((err as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE") throw conflict(`Instance "${name}" already exists in project "${project}"`);
      throw err;
    }
    ticket.commit();
    this.changes.publish({ kind: "instance", instance });
    this.bus.lifecycle("instance-created", this.url(instance), { location: instance.location }, project);
    if (!input.start) return instance;
    await this.executor.start(instance);
    return this.get(project, name);
  }

  /** PATCH merges config and devices; PUT replaces them. Berth's volatile keys are kept either way. */
  update(project: string, name: string, input: InstanceUpdate, replace: boolean): Instance {
    const current = this.get(project, name);
    const given = input.config ?? (replace ? {} : undefined);
    let config = current.config;
    if (given) {
      validateInstanceConfig(given);
      for (const [key, value] of Object.entries(given)) {
        if (VOLATILE.has(key) && value !== current.config[key]) {
          throw badRequest(`config["${key}"] is written by Berth and cannot be changed`);
        }
      }
      const volatile = Object.fromEntries(Object.entries(current.config).filter(([k]) => VOLATILE.has(k)));
      config = replace ? { ...given, ...volatile } : { ...current.config, ...given };
      // In a PATCH, an empty value removes the key (as `lxc config unset`).
      for (const [key, value] of Object.entries(given)) if (value === "" && !VOLATILE.has(key)) delete config[key];
    }
    const devices = input.devices ?? (replace ? {} : undefined);
    if (devices) this.checkDevices(devices);
    this.store.updateInstance(project, name, {
      config,
      devices: devices ? (replace ? devices : { ...current.devices, ...devices }) : undefined,
      profiles: input.profiles ?? (replace ? ["default"] : undefined),
      description: input.description ?? (replace ? "" : undefined),
    });
    const instance = this.get(project, name);
    this.changes.publish({ kind: "instance", instance });
    this.bus.lifecycle("instance-updated", this.url(instance), {}, project);
    return instance;
  }

  /** Deletes an instance; a running one only with force (as `lxc delete --force`). */
  async remove(project: string, name: string, force: boolean): Promise<void> {
    const instance = this.get(project, name);
    if (instance.status === "Running") {
      if (!force) throw badRequest(`Instance "${name}" is running; stop it first or delete with force=true`);
      await this.executor.stop(instance, { force: true, timeoutS: 0 });
    }
    this.store.deleteInstance(project, name);
    this.changes.publish({ kind: "instance-removed", project, name, location: instance.location });
    this.bus.lifecycle("instance-deleted", this.url(instance), {}, project);
  }

  async changeState(project: string, name: string, action: "start" | "stop" | "restart", force: boolean, timeoutS?: number): Promise<Instance> {
    const instance = this.get(project, name);
    const timeout = timeoutS ?? Number(instance.config["boot.host_shutdown_timeout"] ?? 30);
    if (action === "stop" || action === "restart") {
      if (instance.status === "Running" || action === "stop") await this.executor.stop(instance, { force, timeoutS: timeout });
    }
    if (action === "start" || action === "restart") await this.executor.start(this.get(project, name));
    return this.get(project, name);
  }

  // ---- InstanceRecorder: what executors write --------------------------------------------------

  recordStatus(project: string, name: string, status: InstanceStatus): void {
    const before = this.get(project, name);
    if (before.status === status) return;
    this.store.setInstanceStatus(project, name, status);
    const instance = { ...before, status };
    this.changes.publish({ kind: "instance", instance });
    const action = status === "Running" ? "instance-started" : status === "Stopped" ? "instance-stopped" : "instance-updated";
    this.bus.lifecycle(action, this.url(instance), { location: instance.location }, project);
  }

  recordLocation(project: string, name: string, location: string): void {
    const before = this.get(project, name);
    if (before.location === location) return;
    this.store.updateInstance(project, name, { location });
    const instance = { ...before, location };
    this.changes.publish({ kind: "instance", instance, previousLocation: before.location });
    this.bus.lifecycle("instance-migrated", this.url(instance), { from: before.location, to: location }, project);
  }

  /** Writes Berth's own config keys (volatile.*); null removes one. */
  setVolatile(project: string, name: string, changes: Record<string, string | null>): Instance {
    const current = this.get(project, name);
    const config = { ...current.config };
    for (const [key, value] of Object.entries(changes)) {
      if (value === null) delete config[key];
      else config[key] = value;
    }
    this.store.updateInstance(project, name, { config });
    const instance = { ...current, config };
    this.changes.publish({ kind: "instance", instance });
    return instance;
  }

  private checkDevices(devices: Devices): void {
    validateDevices(devices);
    for (const [deviceName, device] of Object.entries(devices)) {
      if (device.type === "disk" && device.pool && !this.store.getPool(device.pool)) {
        throw badRequest(`devices["${deviceName}"].pool: storage pool "${device.pool}" does not exist`);
      }
    }
  }

  private url(instance: Instance): string {
    const query = instance.project === "default" ? "" : `?project=${instance.project}`;
    return `/1.0/instances/${instance.name}${query}`;
  }
}
