/**
 * Storage pools: a name and a driver; remote drivers are shared by every member. As in an LXD
 * cluster, a pool may first be defined member by member (`?target=`, status Pending), then created
 * once without a target (status Created) when every member has it; a pool created directly is
 * Created at once. A Created pool is on every member.
 */
import { badRequest, conflict, notFound } from "../domain/errors.ts";
import { checkName } from "../domain/names.ts";
import { REMOTE_DRIVERS, STORAGE_DRIVERS, type StorageDriver, type StoragePool } from "../domain/types.ts";
import type { EventBus } from "../events/bus.ts";
import type { Store } from "../store/store.ts";
import { instanceUrl } from "./instanceRecords.ts";
import { mergeConfig, withoutUnset } from "./memberService.ts";

export interface PoolInput {
  name: string;
  driver: string;
  description?: string;
  config?: Record<string, string>;
}

export class PoolService {
  constructor(private readonly store: Store, private readonly bus: EventBus) {}

  list(): StoragePool[] {
    return this.store.listPools();
  }

  get(name: string): StoragePool {
    const pool = this.store.getPool(name);
    if (!pool) throw notFound(`Storage pool "${name}" not found`);
    return pool;
  }

  isRemote(name: string): boolean {
    const pool = this.store.getPool(name);
    return pool !== undefined && REMOTE_DRIVERS.has(pool.driver);
  }

  /** The members a pool is on: every member once Created, those it was defined on while Pending. */
  locations(pool: StoragePool): string[] {
    return pool.status === "Created" ? this.store.listMembers().map((m) => m.server_name) : pool.defined_on;
  }

  /** URLs of what uses the pool: instances whose disks are on it. */
  usedBy(name: string): string[] {
    return this.users(name).map(instanceUrl);
  }

  /**
   * Without a target: creates the pool (Created), or finishes a Pending one once it is defined on
   * every member. With a target member: defines the pool on that member only (Pending), as LXD.
   */
  create(input: PoolInput, target?: string): StoragePool {
    const name = checkName("name", input.name);
    if (!(STORAGE_DRIVERS as readonly string[]).includes(input.driver)) {
      throw badRequest(`driver must be one of ${STORAGE_DRIVERS.join(", ")}, got ${JSON.stringify(input.driver)}`);
    }
    const existing = this.store.getPool(name);
    if (existing?.status === "Created") throw conflict(`Storage pool "${name}" already exists`);
    if (existing && existing.driver !== input.driver) {
      throw badRequest(`Storage pool "${name}" is being defined with driver ${existing.driver}, got ${JSON.stringify(input.driver)}`);
    }
    if (target !== undefined) return this.defineOn(existing, name, input, target);
    if (existing) return this.finish(existing, input);
    const pool: StoragePool = {
      name, driver: input.driver as StorageDriver, description: input.description ?? "", config: withoutUnset(input.config ?? {}),
      status: "Created", defined_on: [],
    };
    this.store.insertPool(pool);
    this.bus.lifecycle("storage-pool-created", `/1.0/storage-pools/${name}`);
    return pool;
  }

  private defineOn(existing: StoragePool | undefined, name: string, input: PoolInput, member: string): StoragePool {
    if (!this.store.getMember(member)) throw notFound(`Cluster member "${member}" not found`);
    if (existing?.defined_on.includes(member)) throw badRequest(`Storage pool "${name}" is already defined on member "${member}"`);
    if (!existing) {
      this.store.insertPool({
        name, driver: input.driver as StorageDriver, description: input.description ?? "", config: input.config ?? {},
        status: "Pending", defined_on: [member],
      });
    } else {
      this.store.updatePool(name, { defined_on: [...existing.defined_on, member].sort() });
    }
    this.bus.lifecycle("storage-pool-created", `/1.0/storage-pools/${name}`, { target: member });
    return this.get(name);
  }

  private finish(pending: StoragePool, input: PoolInput): StoragePool {
    const missing = this.store.listMembers().map((m) => m.server_name).filter((m) => !pending.defined_on.includes(m));
    if (missing.length > 0) {
      throw badRequest(`Storage pool "${pending.name}" is not defined on member(s) ${missing.join(", ")}; define it there first with ?target=MEMBER`);
    }
    this.store.updatePool(pending.name, {
      status: "Created", defined_on: [], config: { ...pending.config, ...(input.config ?? {}) },
      description: input.description ?? pending.description,
    });
    this.bus.lifecycle("storage-pool-created", `/1.0/storage-pools/${pending.name}`);
    return this.get(pending.name);
  }

  update(name: string, input: { description?: string; config?: Record<string, string> }, replace: boolean): StoragePool {
    const pool = this.get(name);
    const description = input.description ?? (replace ? "" : pool.description);
    const config = replace ? withoutUnset(input.config ?? {}) : mergeConfig(pool.config, input.config ?? {});
    this.store.updatePool(name, { description, config });
    this.bus.lifecycle("storage-pool-updated", `/1.0/storage-pools/${name}`);
    return this.get(name);
  }

  remove(name: string): void {
    this.get(name);
    const users = this.users(name);
    if (users.length > 0) {
      throw conflict(`Storage pool "${name}" is used by ${users.length} instance(s): ${users.slice(0, 10).map((i) => `${i.project}/${i.name}`).join(", ")}`);
    }
    this.store.deletePool(name);
    this.bus.lifecycle("storage-pool-deleted", `/1.0/storage-pools/${name}`);
  }

  private users(name: string) {
    return this.store.listInstances().filter((i) => Object.values(i.devices).some((d) => d.type === "disk" && d.pool === name));
  }
}
