/**
 * Storage pools: a name and a driver; remote drivers are shared by every member. As in an LXD
 * cluster, a pool may first be defined member by member (`?target=`, status Pending), then created
 * once without a target (status Created) when every member has it; a pool created directly is
 * Created at once. A Created pool is on every member.
 */
import { badRequest, conflict, notFound } from "../domain/errors.ts";
import { checkName } from "../domain/names.ts";
import { REMOTE_DRIVERS, STORAGE_DRIVERS, type Instance, type StorageDriver, type StoragePool } from "../domain/types.ts";
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
  /** Pools are few and read on every placement and evacuation plan: kept in memory, refreshed after every write. */
  private cache = new Map<string, StoragePool>();

  constructor(private readonly store: Store, private readonly bus: EventBus) {}

  /** Reads the stored pools (start-up, and after every write). */
  async load(): Promise<void> {
    this.cache = new Map((await this.store.listPools()).map((p) => [p.name, p]));
  }

  list(): StoragePool[] {
    return [...this.cache.values()];
  }

  get(name: string): StoragePool {
    const pool = this.cache.get(name);
    if (!pool) throw notFound(`Storage pool "${name}" not found`);
    return pool;
  }

  /** The pool, or undefined when there is no such pool. */
  find(name: string): StoragePool | undefined {
    return this.cache.get(name);
  }

  /** The pool's driver, or undefined when there is no such pool. */
  driverOf(name: string): StorageDriver | undefined {
    return this.cache.get(name)?.driver;
  }

  isRemote(name: string): boolean {
    const pool = this.cache.get(name);
    return pool !== undefined && REMOTE_DRIVERS.has(pool.driver);
  }

  /** The members a pool is on: every member once Created, those it was defined on while Pending. */
  async locations(pool: StoragePool): Promise<string[]> {
    return pool.status === "Created" ? (await this.store.listMembers()).map((m) => m.server_name) : pool.defined_on;
  }

  /** URLs of what uses the pool: instances whose disks are on it. */
  async usedBy(name: string): Promise<string[]> {
    return (await this.users(name)).map(instanceUrl);
  }

  /**
   * Without a target: creates the pool (Created), or finishes a Pending one once it is defined on
   * every member. With a target member: defines the pool on that member only (Pending), as LXD.
   */
  async create(input: PoolInput, target?: string): Promise<StoragePool> {
    const name = checkName("name", input.name);
    if (!(STORAGE_DRIVERS as readonly string[]).includes(input.driver)) {
      throw badRequest(`driver must be one of ${STORAGE_DRIVERS.join(", ")}, got ${JSON.stringify(input.driver)}`);
    }
    const existing = await this.store.getPool(name);
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
    await this.store.insertPool(pool);
    await this.load();
    this.bus.lifecycle("storage-pool-created", `/1.0/storage-pools/${name}`);
    return pool;
  }

  private async defineOn(existing: StoragePool | undefined, name: string, input: PoolInput, member: string): Promise<StoragePool> {
    if (!(await this.store.getMember(member))) throw notFound(`Cluster member "${member}" not found`);
    if (existing?.defined_on.includes(member)) throw badRequest(`Storage pool "${name}" is already defined on member "${member}"`);
    if (!existing) {
      await this.store.insertPool({
        name, driver: input.driver as StorageDriver, description: input.description ?? "", config: withoutUnset(input.config ?? {}),
        status: "Pending", defined_on: [member],
      });
    } else {
      await this.store.updatePool(name, { defined_on: [...existing.defined_on, member].sort() });
    }
    await this.load();
    this.bus.lifecycle("storage-pool-created", `/1.0/storage-pools/${name}`, { target: member });
    return this.get(name);
  }

  private async finish(pending: StoragePool, input: PoolInput): Promise<StoragePool> {
    const missing = (await this.store.listMembers()).map((m) => m.server_name).filter((m) => !pending.defined_on.includes(m));
    if (missing.length > 0) {
      throw badRequest(`Storage pool "${pending.name}" is not defined on member(s) ${missing.join(", ")}; define it there first with ?target=MEMBER`);
    }
    await this.store.updatePool(pending.name, {
      status: "Created", defined_on: [], config: mergeConfig(pending.config, input.config ?? {}),
      description: input.description ?? pending.description,
    });
    await this.load();
    this.bus.lifecycle("storage-pool-created", `/1.0/storage-pools/${pending.name}`);
    return this.get(pending.name);
  }

  async update(name: string, input: { description?: string; config?: Record<string, string> }, replace: boolean): Promise<StoragePool> {
    const pool = this.get(name);
    const description = input.description ?? (replace ? "" : pool.description);
    const config = replace ? withoutUnset(input.config ?? {}) : mergeConfig(pool.config, input.config ?? {});
    await this.store.updatePool(name, { description, config });
    await this.load();
    this.bus.lifecycle("storage-pool-updated", `/1.0/storage-pools/${name}`);
    return this.get(name);
  }

  async remove(name: string): Promise<void> {
    this.get(name);
    const users = await this.users(name);
    if (users.length > 0) {
      throw conflict(`Storage pool "${name}" is used by ${users.length} instance(s): ${users.slice(0, 10).map((i) => `${i.project}/${i.name}`).join(", ")}`);
    }
    await this.store.deletePool(name);
    await this.load();
    this.bus.lifecycle("storage-pool-deleted", `/1.0/storage-pools/${name}`);
  }

  private async users(name: string): Promise<Instance[]> {
    return (await this.store.listInstances()).filter((i) => Object.values(i.devices).some((d) => d.type === "disk" && d.pool === name));
  }
}
