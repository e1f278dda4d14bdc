/** Storage pools: a name and a driver; remote drivers are shared by every member. */
import { badRequest, conflict, notFound } from "../domain/errors.ts";
import { checkName } from "../domain/names.ts";
import { REMOTE_DRIVERS, STORAGE_DRIVERS, type StorageDriver, type StoragePool } from "../domain/types.ts";
import type { EventBus } from "../events/bus.ts";
import type { Store } from "../store/store.ts";
import { mergeConfig } from "./memberService.ts";

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

  /** The pool's driver, or undefined when there is no such pool. */
  driverOf(name: string): StorageDriver | undefined {
    return this.cache.get(name)?.driver;
  }

  isRemote(name: string): boolean {
    const pool = this.cache.get(name);
    return pool !== undefined && REMOTE_DRIVERS.has(pool.driver);
  }

  async create(input: { name: string; driver: string; description?: string; config?: Record<string, string> }): Promise<StoragePool> {
    const name = checkName("name", input.name);
    if (!(STORAGE_DRIVERS as readonly string[]).includes(input.driver)) {
      throw badRequest(`driver must be one of ${STORAGE_DRIVERS.join(", ")}, got ${JSON.stringify(input.driver)}`);
    }
    if (await this.store.getPool(name)) throw conflict(`Storage pool "${name}" already exists`);
    const pool: StoragePool = {
      name, driver: input.driver as StorageDriver, description: input.description ?? "", config: input.config ?? {},
    };
    await this.store.insertPool(pool);
    await this.load();
    this.bus.lifecycle("storage-pool-created", `/1.0/storage-pools/${name}`);
    return pool;
  }

  async update(name: string, input: { description?: string; config?: Record<string, string> }, replace: boolean): Promise<StoragePool> {
    const pool = this.get(name);
    const description = input.description ?? (replace ? "" : pool.description);
    const config = replace ? (input.config ?? {}) : mergeConfig(pool.config, input.config ?? {});
    await this.store.updatePool(name, description, config);
    await this.load();
    this.bus.lifecycle("storage-pool-updated", `/1.0/storage-pools/${name}`);
    return this.get(name);
  }

  async remove(name: string): Promise<void> {
    this.get(name);
    const users = (await this.store.listInstances()).filter((i) =>
      Object.values(i.devices).some((d) => d.type === "disk" && d.pool === name));
    if (users.length > 0) {
      throw conflict(`Storage pool "${name}" is used by ${users.length} instance(s): ${users.slice(0, 10).map((i) => `${i.project}/${i.name}`).join(", ")}`);
    }
    await this.store.deletePool(name);
    await this.load();
    this.bus.lifecycle("storage-pool-deleted", `/1.0/storage-pools/${name}`);
  }
}
