/**
 * The embedded Store: SQLite through better-sqlite3 (sqliteTables.ts), one connection, every call
 * answered at once. Transactions: better-sqlite3 is synchronous and one connection has one
 * transaction, so while transaction(fn) is open (fn may await), every other call waits for it to
 * end instead of landing inside it; calls made through fn's `tx` run in it.
 */
import { SqliteTables } from "./sqliteTables.ts";
import { DuplicateKey, MissingReference, STORE_METHODS, type Store, type StoreMethod } from "./store.ts";

// Compile-time proof that SqliteTables has every method with the interface's parameters and
// (synchronous) results.
type SyncShape = { [K in StoreMethod]: (...args: Parameters<Store[K]>) => Awaited<ReturnType<Store[K]>> };
const conforms = (tables: SqliteTables): SyncShape => tables;
void conforms;

export interface SqliteStore extends Store {}

export class SqliteStore {
  private readonly tables: SqliteTables;
  /** Set while a transaction is open: calls from outside it wait for it. */
  private open: Promise<void> | null = null;
  /** The Store a transaction's fn gets: the same tables, without waiting. */
  private readonly inside: Store;

  constructor(path: string) {
    const tables = (this.tables = new SqliteTables(path));
    const self = this as unknown as Record<StoreMethod, (...args: unknown[]) => Promise<unknown>>;
    const inside = {} as Record<StoreMethod, (...args: unknown[]) => Promise<unknown>>;
    for (const name of STORE_METHODS) {
      const bound = (tables[name] as (...args: unknown[]) => unknown).bind(tables);
      const method = (...args: unknown[]) => {
        try {
          return bound(...args);
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY") throw new DuplicateKey((err as Error).message);
          if (code === "SQLITE_CONSTRAINT_FOREIGNKEY") throw new MissingReference((err as Error).message);
          throw err;
        }
      };
      self[name] = async (...args: unknown[]) => {
        while (this.open !== null) await this.open;
        return method(...args);
      };
      inside[name] = async (...args: unknown[]) => method(...args);
    }
    this.inside = Object.assign(inside, {
      transaction: <T>(fn: (tx: Store) => Promise<T>) => fn(this.inside), // nested: part of the open one
      close: () => this.close(),
    }) as Store;
  }

  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    while (this.open !== null) await this.open;
    let done!: () => void;
    this.open = new Promise((resolve) => { done = resolve; });
    try {
      this.tables.exec("BEGIN IMMEDIATE");
      let result: T;
      try {
        result = await fn(this.inside);
      } catch (err) {
        this.tables.exec("ROLLBACK");
        throw err;
      }
      this.tables.exec("COMMIT");
      return result;
    } finally {
      this.open = null;
      done();
    }
  }

  async close(): Promise<void> {
    while (this.open !== null) await this.open;
    this.tables.close();
  }
}
