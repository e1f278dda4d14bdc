/**
 * Instances: create (placed by the scheduler or on a target), update, delete, start/stop. Every
 * change of where an instance is or whether it runs holds the instance's lock (instanceLocks.ts).
 */
import { badRequest, conflict, notFound } from "../domain/errors.ts";
import type { InstanceExecutor } from "../domain/executor.ts";
import { CLUSTER_GROUP_KEY, validateDevices, validateInstanceConfig, VOLATILE_KEYS } from "../domain/instanceConfig.ts";
import { checkName } from "../domain/names.ts";
import type { Devices, Instance, InstanceSource, InstanceType, MemberLifecycle, StoragePool } from "../domain/types.ts";
import type { EventBus } from "../events/bus.ts";
import { DuplicateKey, MissingReference, type Store } from "../store/store.ts";
import type { ClusterChanges } from "./changes.ts";
import type { InstanceLocks } from "./instanceLocks.ts";
import { instanceUrl, type InstanceRecords } from "./instanceRecords.ts";
import { withoutUnset } from "./memberService.ts";
import type { InstancePlacement } from "./placementPort.ts";

export interface InstanceInput {
  name: string;
  type?: InstanceType;
  architecture?: string;
  description?: string;
  config?: Record<string, string>;
  devices?: Devices;
  profiles?: string[];
  start?: boolean;
  /** LXD's create source (an image), kept with the instance. */
  source?: InstanceSource;
}

export type InstanceUpdate = Partial<Pick<Instance, "description" | "config" | "devices" | "profiles">>;

export interface InstanceServiceDeps {
  store: Store;
  bus: EventBus;
  changes: ClusterChanges;
  now: () => number;
  records: InstanceRecords;
  locks: InstanceLocks;
  placement: InstancePlacement;
  executor: InstanceExecutor;
  /** Whether a project exists (the project service's cache). */
  projectExists: (name: string) => boolean;
  /** A storage pool by name, or undefined (the pool service's cache). */
  findPool: (name: string) => StoragePool | undefined;
  /** A member's stored lifecycle state, or undefined when there is no such member. */
  memberLifecycle: (name: string) => Promise<MemberLifecycle | undefined>;
  /**
   * Several replicas share the database: a create or a resize checks its placement against the
   * stored truth in the transaction that stores it (PlacementTicket.confirm). One process needs no
   * such check (BerthOptions.confirmStored; moves follow the same rule, InstanceRecords).
   */
  sharedStore?: boolean;
}

const VOLATILE: ReadonlySet<string> = new Set(VOLATILE_KEYS);

/** Lifecycle states in which a member runs nothing new (Nova's maintenance mode). */
export function refusesStarts(state: MemberLifecycle | undefined): boolean {
  return state === "EVACUATING" || state === "EVACUATED";
}

export class InstanceService {
  constructor(private readonly deps: InstanceServiceDeps) {}

  list(filter: { project?: string; location?: string } = {}): Promise<Instance[]> {
    return this.deps.records.list(filter);
  }

  get(project: string, name: string): Promise<Instance> {
    return this.deps.records.get(project, name);
  }

  /**
   * Checks, places and stores a new instance (stopped): every refusal (bad input, no room, a bad
   * target, the scriptlet) is thrown from here, before anything is written. Starting it, when
   * asked, is startCreated's, run by the create's operation.
   */
  async create(project: string, input: InstanceInput, target: string | undefined): Promise<Instance> {
    const { store, placement, locks } = this.deps;
    const draft = this.draft(project, input, target);
    const name = draft.name;
    if (await store.getInstance(project, name)) throw conflict(`Instance "${name}" already exists in project "${project}"`);
    const ticket = await placement.place({ instance: draft, reason: "new", target });
    const instance: Instance = { ...draft, location: ticket.location };
    if (!instance.architecture) instance.architecture = ticket.architecture;
    // Stored (and the reservation committed) under the instance's lock: an evacuation of the
    // member that begins meanwhile waits for this placement, then finds the instance stored.
    return locks.with(project, name, async () => {
      try {
        if (this.deps.sharedStore) {
          await store.transaction(async (tx) => {
            await ticket.confirm(tx);
            await tx.insertInstance(instance);
          });
        } else {
          await store.insertInstance(instance);
        }
      } catch (err) {
        ticket.release();
        // The name was taken while the placement was decided: the unique index says so.
        if (err instanceof DuplicateKey) throw conflict(`Instance "${name}" already exists in project "${project}"`);
        // The member (or project) was removed while the placement was decided.
        if (err instanceof MissingReference) throw conflict(`Cluster member "${instance.location}" or project "${project}" was removed while instance "${name}" was being placed; try again`);
        throw err;
      }
      ticket.commit();
      this.deps.changes.publish({ kind: "instance", instance });
      this.deps.bus.lifecycle("instance-created", instanceUrl(instance), { location: instance.location }, project);
      return instance;
    });
  }

  /**
   * A new instance as create would place it, not yet placed or stored: every check of the input
   * (name, project, config keys and values, Berth's volatile keys, devices, pools) throws the 4xx a
   * create answers. The placement query (POST /1.0/scheduler/placement) checks its request with
   * this too, so it refuses exactly what create refuses.
   */
  draft(project: string, input: InstanceInput, target: string | undefined): Instance {
    const name = checkName("name", input.name);
    if (!this.deps.projectExists(project)) throw notFound(`Project "${project}" not found`);
    const config = withoutUnset(input.config ?? {});
    validateInstanceConfig(config);
    for (const key of Object.keys(config)) {
      if (VOLATILE.has(key)) throw badRequest(`config["${key}"] is written by Berth and cannot be set`);
    }
    const devices = input.devices ?? {};
    this.checkDevices(devices);
    // Placed through a group: recorded, so every later move Berth chooses stays in it (as LXD).
    if (target?.startsWith("@")) config[CLUSTER_GROUP_KEY] = target.slice(1);
    return {
      name, project, type: input.type ?? "container", architecture: input.architecture ?? "",
      location: "", status: "Stopped", description: input.description ?? "", config, devices,
      profiles: input.profiles ?? ["default"], created_at: new Date(this.deps.now()).toISOString(),
      ...(input.source ? { source: input.source } : {}),
    };
  }

  /**
   * Starts an instance just created with `start` (the second half of a create, run by its
   * operation). Idempotent: a running instance stays as it is; a member that began an evacuation
   * since it was chosen starts nothing, so the evacuation or the restore starts it where it goes.
   */
  startCreated(project: string, name: string): Promise<Instance> {
    return this.deps.locks.with(project, name, async () => {
      const { records } = this.deps;
      const instance = await this.get(project, name);
      if (instance.status === "Running") return instance;
      if (refusesStarts(await this.deps.memberLifecycle(instance.location))) {
        await records.setVolatile(project, name, { "volatile.last_state.power": "RUNNING" });
      } else {
        await this.deps.executor.start(instance);
      }
      return records.get(project, name);
    });
  }

  /**
   * PATCH merges config and devices; PUT replaces them. Berth's volatile keys are kept either way.
   * Raising limits must fit the member: checked and reserved in the view, then confirmed against
   * what is stored in the transaction that writes them (409 when either refuses; nothing written).
   */
  async update(project: string, name: string, input: InstanceUpdate, replace: boolean): Promise<Instance> {
    await this.deps.placement.ready(); // the size check reads the scheduler's view
    return this.deps.locks.with(project, name, async () => {
      const current = await this.get(project, name);
      const given = input.config ?? (replace ? {} : undefined);
      let config = current.config;
      if (given) {
        validateInstanceConfig(withoutUnset(given)); // "" unsets a key: nothing to validate
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
      const givenDevices = input.devices ?? (replace ? {} : undefined);
      if (givenDevices) this.checkDevices(givenDevices);
      const devices = givenDevices ? (replace ? givenDevices : { ...current.devices, ...givenDevices }) : current.devices;
      const next: Instance = {
        ...current, config, devices,
        profiles: input.profiles ?? (replace ? ["default"] : current.profiles),
        description: input.description ?? (replace ? "" : current.description),
      };
      const ticket = this.deps.placement.reserveResize(current, next);
      const patch = { config, devices, profiles: next.profiles, description: next.description };
      try {
        // A growth is confirmed against what is stored on the member, in the write's transaction:
        // another replica may have filled the member since this view last heard of it.
        if (ticket && this.deps.sharedStore) {
          await this.deps.store.transaction(async (tx) => {
            await ticket.confirm(tx);
            await tx.updateInstance(project, name, patch);
          });
        } else {
          await this.deps.store.updateInstance(project, name, patch);
        }
      } catch (err) {
        ticket?.release();
        throw err;
      }
      this.deps.changes.publish({ kind: "instance", instance: next }); // the view now counts the new size
      ticket?.release();
      this.deps.bus.lifecycle("instance-updated", instanceUrl(next), {}, project);
      return next;
    });
  }

  /** The refusal of a delete, if any: a running instance needs force (as `lxc delete --force`). */
  async checkRemove(project: string, name: string, force: boolean): Promise<Instance> {
    const instance = await this.get(project, name);
    if (instance.status === "Running" && !force) throw badRequest(`Instance "${name}" is running; stop it first or delete with force=true`);
    return instance;
  }

  /** Deletes an instance (stopping it first when forced); one already gone counts as deleted. */
  remove(project: string, name: string, force: boolean): Promise<void> {
    return this.deps.locks.with(project, name, async () => {
      if (!(await this.deps.records.find(project, name))) return;
      const instance = await this.checkRemove(project, name, force);
      if (instance.status === "Running") await this.deps.executor.stop(instance, { force: true, timeoutS: 0 });
      await this.deps.store.deleteInstance(project, name);
      this.deps.changes.publish({ kind: "instance-removed", project, name, location: instance.location });
      this.deps.bus.lifecycle("instance-deleted", instanceUrl(instance), {}, project);
    });
  }

  /** Start, stop or restart as a user asks. A member in maintenance starts nothing (409). */
  changeState(project: string, name: string, action: "start" | "stop" | "restart", force: boolean, timeoutS?: number): Promise<Instance> {
    return this.deps.locks.with(project, name, async () => {
      const { executor, records } = this.deps;
      const instance = await this.get(project, name);
      if (action !== "stop") await this.refuseStartOn(instance);
      // No timeout, or LXD's -1 ("the default"): the instance's boot.host_shutdown_timeout.
      const timeout = timeoutS !== undefined && timeoutS >= 0 ? timeoutS : Number(instance.config["boot.host_shutdown_timeout"] ?? 30);
      if (action === "stop" || action === "restart") {
        if (instance.status === "Running" || action === "stop") await executor.stop(instance, { force, timeoutS: timeout });
      }
      if (action === "start" || action === "restart") await executor.start(await records.get(project, name));
      return records.get(project, name);
    });
  }

  /** 409 when the instance's member is being evacuated or is evacuated. */
  async refuseStartOn(instance: Instance): Promise<void> {
    const state = await this.deps.memberLifecycle(instance.location);
    if (refusesStarts(state)) {
      const what = state === "EVACUATING" ? "being evacuated" : "evacuated";
      throw conflict(`Instance "${instance.name}" cannot start: its cluster member "${instance.location}" is ${what} (${state}); restore the member or move the instance first`);
    }
  }

  private checkDevices(devices: Devices): void {
    validateDevices(devices);
    for (const [deviceName, device] of Object.entries(devices)) {
      if (device.type !== "disk" || !device.pool) continue;
      const pool = this.deps.findPool(device.pool);
      if (!pool) throw badRequest(`devices["${deviceName}"].pool: storage pool "${device.pool}" does not exist`);
      if (pool.status !== "Created") {
        throw badRequest(`devices["${deviceName}"].pool: storage pool "${device.pool}" is still pending (defined on ${pool.defined_on.join(", ")}); create it without a target first`);
      }
    }
  }
}
