/**
 * The PostgreSQL ReplicaChannel (store.ts): the feed table with LISTEN/NOTIFY carrying ids, the
 * leadership and operation claims as session advisory locks on one dedicated connection, replica
 * announces and shared values. The advisory locks are the session's: when a replica dies (kill -9
 * included) its connection closes and the database releases them at once, so another replica can
 * take the leadership, and resume the operations it ran, on its next try. Appends and prunes of
 * the feed made inside asLeader (store.ts) are fenced as the store's writes are (leaderFence.ts).
 */
import { createHash } from "node:crypto";
import pg from "pg";
import { leaderFence, type FeedEntry, type NewFeedEntry, type ReplicaChannel, type ReplicaInfo } from "../store.ts";
import { checkFence, LEASE_EPOCH_FOR_SHARE } from "./leaderFence.ts";

const CHANNEL = "berth_feed";
/** Advisory lock keys: the leadership, and one per operation (the first 8 bytes of SHA-256 of its id, with a prefix). */
const LEADER_LOCK = 0x62657274686c64n; // "berthld"
/** Held by each append from before its ids are taken until it commits: "berthfd". */
const FEED_LOCK = 0x62657274686664n;
const operationLock = (id: string) => createHash("sha256").update(`berth-operation:${id}`).digest().readBigInt64BE(0);
const DB_NOW = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

export class PgChannel implements ReplicaChannel {
  private leading = false;
  /** The lease's epoch when this session took the leadership. */
  private taken = 0;
  private readonly claimed = new Set<string>();
  private lost: Error | null = null;
  /** The session's queries, one at a time (a pg client runs one query at a time). */
  private queue: Promise<unknown> = Promise.resolve();
  private onLost: (err: Error) => void = () => {};

  private constructor(private readonly pool: pg.Pool, private readonly session: pg.Client) {
    // From the start: a session lost before listen() must not crash the process.
    const lose = (err: Error) => {
      if (this.lost) return;
      this.lost = err;
      this.leading = false;
      this.claimed.clear();
      this.onLost(err);
    };
    session.on("error", lose);
    session.on("end", () => lose(new Error("the replica channel's connection closed")));
  }

  static async open(url: string, pool: pg.Pool): Promise<PgChannel> {
    const session = new pg.Client({ connectionString: url, keepAlive: true });
    await session.connect();
    return new PgChannel(pool, session);
  }

  /**
   * Appends the entries in one transaction that holds the feed's lock (FEED_LOCK) from before
   * their ids are taken until they commit: ids become visible in the order they were taken, so a
   * replica reading "after the last id applied" never passes over an entry that commits later
   * (two replicas appending at once did that: test/replicas/feedOrder.test.ts). One notification
   * carries the last id; readers read everything after what they applied.
   */
  async append(origin: string, entries: readonly NewFeedEntry[]): Promise<number> {
    if (entries.length === 0) return 0;
    return this.transaction(async (client) => {
      await client.query("select pg_advisory_xact_lock($1)", [FEED_LOCK.toString()]);
      const { rows } = await client.query<{ id: string }>(
        `with entry as (
           insert into changes (origin, kind, body, created_at)
           select $1, e.kind, e.body, ${DB_NOW} from unnest($2::text[], $3::jsonb[]) with ordinality as e(kind, body, n) order by e.n
           returning id)
         select max(id) as id, pg_notify('${CHANNEL}', max(id)::text) from entry`,
        [origin, entries.map((e) => e.kind), entries.map((e) => JSON.stringify(e.body))],
      );
      return Number(rows[0].id);
    });
  }

  /** A write on the pool; inside asLeader, in a transaction that first checks the lease's epoch. */
  private async write<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    if (!leaderFence()) return this.pool.query<R>(text, values);
    return this.transaction((client) => client.query<R>(text, values));
  }

  /** fn in a transaction on one connection of the pool; inside asLeader, after the lease's epoch is checked. */
  private async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const fence = leaderFence();
    const client = await this.pool.connect();
    try {
      await client.query("begin");
      try {
        if (fence) checkFence(fence, (await client.query(LEASE_EPOCH_FOR_SHARE)).rows);
        const result = await fn(client);
        await client.query("commit");
        return result;
      } catch (err) {
        await client.query("rollback").catch(() => {});
        throw err;
      }
    } finally {
      client.release();
    }
  }

  async after(id: number, limit: number): Promise<FeedEntry[]> {
    const { rows } = await this.pool.query<{ id: string; origin: string; kind: FeedEntry["kind"]; body: unknown }>(
      "select id, origin, kind, body from changes where id > $1 order by id limit $2", [id, limit],
    );
    return rows.map((r) => ({ ...r, id: Number(r.id) }));
  }

  async lastId(): Promise<number> {
    const { rows } = await this.pool.query<{ id: string | null }>("select max(id) as id from changes");
    return Number(rows[0].id ?? 0);
  }

  async pruneFeed(olderThanMs: number): Promise<number> {
    const result = await this.write(`delete from changes where created_at < ${DB_NOW} - $1`, [olderThanMs]);
    return result.rowCount ?? 0;
  }

  async listen(onId: (id: number) => void, onLost: (err: Error) => void): Promise<void> {
    this.session.on("notification", (msg) => {
      if (msg.channel === CHANNEL && msg.payload) onId(Number(msg.payload));
    });
    this.onLost = onLost;
    await this.onSession(`listen ${CHANNEL}`);
  }

  /** A query on the session, after those before it. */
  private onSession<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    const run = this.queue.then(() => this.session.query<R>(text, values));
    this.queue = run.catch(() => {});
    return run;
  }

  private check(): void {
    if (this.lost) throw new Error(`the replica channel is lost: ${this.lost.message}`);
  }

  async tryLead(holder: string): Promise<number | null> {
    this.check();
    if (!this.leading) {
      const { rows } = await this.onSession<{ ok: boolean }>("select pg_try_advisory_lock($1) as ok", [LEADER_LOCK.toString()]);
      if (!rows[0].ok) return null;
      this.leading = true;
      // A new holder: the epoch grows (only ever), for fencing and for the metrics.
      const taken = await this.onSession<{ epoch: string }>(
        `insert into leases (name, holder, epoch, expires_at) values ('leader', $1, 1, 0)
         on conflict (name) do update set holder = excluded.holder, epoch = leases.epoch + 1 returning epoch`, [holder],
      );
      this.taken = Number(taken.rows[0].epoch);
      return this.taken;
    }
    const { rows } = await this.onSession<{ epoch: string }>("select epoch from leases where name = 'leader'");
    const epoch = Number(rows[0]?.epoch ?? 0);
    if (epoch === this.taken) return epoch;
    // Another replica took the lease since (this session lost the lock meanwhile): not the leader any more.
    await this.resign();
    return null;
  }

  async resign(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    if (this.lost) return; // the session, and the lock with it, is gone already
    await this.onSession("select pg_advisory_unlock($1)", [LEADER_LOCK.toString()]);
  }

  async lease(): Promise<{ holder: string; epoch: number } | null> {
    const { rows } = await this.pool.query<{ holder: string; epoch: string }>("select holder, epoch from leases where name = 'leader'");
    return rows[0] ? { holder: rows[0].holder, epoch: Number(rows[0].epoch) } : null;
  }

  async claimOperation(id: string): Promise<boolean> {
    this.check();
    if (this.claimed.has(id)) return true;
    const { rows } = await this.onSession<{ ok: boolean }>("select pg_try_advisory_lock($1) as ok", [operationLock(id).toString()]);
    if (rows[0].ok) this.claimed.add(id);
    return rows[0].ok;
  }

  async releaseOperation(id: string): Promise<void> {
    if (!this.claimed.delete(id) || this.lost) return;
    await this.onSession("select pg_advisory_unlock($1)", [operationLock(id).toString()]);
  }

  async announce(id: string, urls: string[]): Promise<void> {
    await this.pool.query(
      `insert into replicas (id, urls, last_seen) values ($1, $2, ${DB_NOW})
       on conflict (id) do update set urls = excluded.urls, last_seen = excluded.last_seen`, [id, JSON.stringify(urls)],
    );
  }

  async listReplicas(withinMs: number): Promise<ReplicaInfo[]> {
    const { rows } = await this.pool.query<{ id: string; urls: string[]; last_seen: string }>(
      `select id, urls, last_seen from replicas where last_seen >= ${DB_NOW} - $1 order by id`, [withinMs],
    );
    return rows.map((r) => ({ id: r.id, urls: r.urls, lastSeen: Number(r.last_seen) }));
  }

  async sharedValue(name: string, make: () => Promise<string>): Promise<string> {
    const read = async () => (await this.pool.query<{ value: string }>("select value from shared_values where name = $1", [name])).rows[0]?.value;
    const found = await read();
    if (found !== undefined) return found;
    await this.pool.query("insert into shared_values (name, value) values ($1, $2) on conflict (name) do nothing", [name, await make()]);
    return (await read())!;
  }

  async close(): Promise<void> {
    this.lost ??= new Error("closed");
    this.leading = false;
    this.claimed.clear();
    await this.session.end().catch(() => {});
  }
}
