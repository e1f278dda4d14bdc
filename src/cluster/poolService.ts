/** Storage pools: a name and a driver; remote drivers are shared by every member. */
import { badRequest, conflict, notFound } from "../domain/errors.ts";
import { checkName } from "../domain/names.ts";
import { REMOTE_DRIVERS, STORAGE_DRIVERS, type StorageDriver, type StoragePool } from "../domain/types.ts";
import type { EventBus } from "../events/bus.ts";
import type { Store } from "../store/store.ts";
import { mergeConfig } from "./memberService.ts";

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

  create(input: { name: string; driver: string; description?: string; config?: Record<string, string> }): StoragePool {
    const name = checkName("name", input.name);
    if (!(STORAGE_DRIVERS as readonly string[]).includes(input.driver)) {
      throw badRequest(`driver must be one of ${STORAGE_DRIVERS.join(", ")}, got ${JSON.stringify(input.driver)}`);
    }
    if (this.store.getPool(name)) throw conflict(`Storage pool "${name}" already exists`);
    const pool: StoragePool = {
      name, driver: input.driver as StorageDriver, description: input.description ?? "", config: input.config ?? {},
    };
    this.store.insertPool(pool);
    this.bus.lifecycle("storage-pool-created", `/1.0/storage-pools/${name}`);
    return pool;
  }

  update(name: string, input: { description?: string; config?: Record<string, string> }, replace: boolean): StoragePool {
    const pool = this.get(name);
    const description = input.description ?? (replace ? "" : pool.description);
    const config = replace ? (input.config ?? {}) : mergeConfig(pool.config, input.config ?? {});
    this.store.updatePool(name, description, config);
    this.bus.lifecycle("storage-pool-updated", `/1.0/storage-pools/${name}`);
    return this.get(name);
  }

  remove(name: string): void {
    this.get(name);
    const users = this.store.listInstances().filter((i) =>
      Object.values(i.devices).some((d) => d.type === "disk" && d.pool === name));
    if (users.length > 0) {
      throw conflict(`Storage pool "${name}" is used by ${users.length} instance(s): ${users.slice(0, 10).map((i) => `${i.project}/${i.name}`).join(", ")}`);
    }
    this.store.deletePool(name);
    this.bus.lifecycle("storage-pool-deleted", `/1.0/storage-pools/${name}`);
  }
}
