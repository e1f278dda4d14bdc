/**
 * The PostgreSQL Store, for several Berth replicas on one database: node-postgres (pg) through
 * drizzle's node-postgres dialect (pgTables.ts over pgSchema.ts), migrations of its own
 * (src/store/pg/migrations, made by `npm run db:generate:pg`).
 *
 * - Every call outside a transaction takes a connection from the pool; transaction(fn) holds one
 *   connection in BEGIN … COMMIT for fn, so calls made beside it run on other connections with
 *   the database's isolation (READ COMMITTED) and never see fn's writes before it commits.
 * - A unique violation (SQLSTATE 23505) becomes DuplicateKey.
 * - Inside asLeader (store.ts) every write, and every transaction, first checks the leader lease's
 *   epoch (leaderFence.ts) in its own transaction; reads are not fenced.
 * - Replicas starting together migrate one at a time (an advisory lock around the migrator).
 */
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { DuplicateKey, leaderFence, MissingReference, STORE_METHODS, type ReplicaChannel, type Store, type StoreMethod } from "../store.ts";
import { PgChannel } from "./pgChannel.ts";
import * as schema from "./pgSchema.ts";
import { PgTables, type PgDb } from "./pgTables.ts";

const MIGRATIONS = fileURLToPath(new URL("./migrations", import.meta.url));
/** pg_advisory_lock key held while migrating: "berth" in ASCII. */
const MIGRATION_LOCK = 0x6265727468;

/** The methods that only read: every other one writes, and is fenced inside asLeader. */
const READS: ReadonlySet<StoreMethod> = new Set<StoreMethod>([
  "dumpTable", "listMembers", "getMember", "listGroups", "groupExists", "getGroup", "groupsOfMember", "listPools", "getPool",
  "listProjects", "getProject", "listInstances", "listInstanceResources", "instanceResourcesOn", "lockMember", "getInstance",
  "countInstances", "countInstancesByLocationAndStatus", "readConfig", "findTokenByHash", "listTokens", "countTokens",
  "findJoinTokenByHash", "getJoinToken", "listJoinTokens", "getCertificate", "listCertificates", "findTrustTokenByHash",
  "getTrustToken", "listTrustTokens", "getOperation", "listOperations", "countOperationsByStatus",
]);

type Shape = { [K in StoreMethod]: (...args: Parameters<Store[K]>) => ReturnType<Store[K]> };
const conforms = (tables: PgTables): Shape => tables;
void conforms;

/** The database's error code, wherever drizzle put it (its DrizzleQueryError keeps pg's error as cause). */
function sqlState(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.code === "string") return e.code;
  }
  return undefined;
}

function translate(err: unknown): unknown {
  if (sqlState(err) === "23505") {
    const cause = (err as { cause?: Error }).cause ?? (err as Error);
    return new DuplicateKey(cause.message);
  }
  if (sqlState(err) === "23503") return new MissingReference(((err as { cause?: Error }).cause ?? (err as Error)).message);
  return err;
}

type Call = (tables: PgTables, args: unknown[]) => Promise<unknown>;

/**
 * A Store over one drizzle executor (the pool, or an open transaction). `fenced`: an open
 * transaction whose fence was checked at its start (its writes need no check of their own).
 */
function storeOver(db: PgDb, close: () => Promise<void>, fenced = false): Store {
  const tables = new PgTables(db);
  const store = {} as Record<string, unknown>;
  for (const name of STORE_METHODS) {
    const call: Call = (on, args) => (on[name] as (...a: unknown[]) => Promise<unknown>).apply(on, args);
    const write = !READS.has(name);
    store[name] = async (...args: unknown[]) => {
      const fence = write && !fenced ? leaderFence() : undefined;
      try {
        if (!fence) return await call(tables, args);
        return await db.transaction(async (tx) => {
          const inside = new PgTables(tx as unknown as PgDb);
          await inside.checkFence(fence);
          return call(inside, args);
        });
      } catch (err) {
        throw translate(err);
      }
    };
  }
  store.transaction = async <T>(fn: (tx: Store) => Promise<T>): Promise<T> => {
    const fence = fenced ? undefined : leaderFence();
    try {
      return await db.transaction(async (tx) => {
        if (fence) await new PgTables(tx as unknown as PgDb).checkFence(fence);
        return fn(storeOver(tx as unknown as PgDb, close, fenced || fence !== undefined));
      });
    } catch (err) {
      throw translate(err);
    }
  };
  store.close = close;
  return store as unknown as Store;
}

export interface PgStoreOptions {
  /** postgres://user[:password]@host[:port]/database (libpq's URL form). */
  url: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
}

export interface PgStore extends Store {}

export class PgStore {
  readonly pool: pg.Pool;
  private readonly url: string;

  private constructor(url: string, pool: pg.Pool, db: PgDb) {
    this.url = url;
    this.pool = pool;
    Object.assign(this, storeOver(db, async () => {
      if (!pool.ended) await pool.end();
    }));
  }

  /** Connects, migrates (one replica at a time) and returns the store. */
  static async open(opts: PgStoreOptions): Promise<PgStore> {
    const pool = new pg.Pool({ connectionString: opts.url, max: opts.poolSize ?? 10 });
    // An idle connection the server dropped must not crash the process: the next query reconnects.
    pool.on("error", () => {});
    try {
      const client = await pool.connect();
      try {
        await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK]);
        try {
          await migrate(drizzle(client, { schema }), { migrationsFolder: MIGRATIONS });
        } finally {
          await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK]);
        }
      } finally {
        client.release();
      }
    } catch (err) {
      await pool.end();
      throw new Error(`Cannot open the PostgreSQL store at ${redact(opts.url)}: ${(err as Error).message}`, { cause: err });
    }
    return new PgStore(opts.url, pool, drizzle(pool, { schema }));
  }

  /** The replicas' channel: a connection of its own beside the pool (pgChannel.ts). */
  openChannel(): Promise<ReplicaChannel> {
    return PgChannel.open(this.url, this.pool);
  }
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(an unparseable URL)";
  }
}
