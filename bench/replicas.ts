/**
 * Several Berth replicas on one PostgreSQL (issue 16). Opt-in: it starts a throwaway PostgreSQL
 * server (test/support/postgresServer.ts: Debian's postgresql-15 binaries, as `postgres` when root).
 *
 * 1. Instance creates/s over HTTP at 100 members, 16 clients, 8 s (or 5,000 creates) each, after a
 *    1 s warm-up: one `berth serve` on SQLite (the baseline), one replica on PostgreSQL, and three
 *    replicas on one PostgreSQL database with the requests round-robin over the three.
 * 2. Failover, three times over the three replicas: a writer creates an instance through each
 *    replica every 20 ms; kill -9 of the leader; the time from the kill to the first create sent
 *    after it that a surviving replica accepted (followers answer writes themselves, so this is
 *    about the writer's period plus a round trip), and to a survivor reporting `replica_role:
 *    leader` in GET /1.0, beside the issue's bound (the replicas' tick, when a replica tries to take
 *    the leadership, + 2 s). The killed replica is started again between trials.
 *
 *   npx tsx bench/run.ts replicas     (about 1-2 minutes)
 */
import { pathToFileURL } from "node:url";
import pg from "pg";
import { REPLICA_TICK_MS } from "../src/cluster/replicas.ts";
import { postgresUnavailable, startPostgres, type PostgresServer } from "../test/support/postgresServer.ts";
import { until } from "../test/support/until.ts";
import { addMembers, createBody, load, startService, type Service } from "./support.ts";

const MEMBERS = 100;
const CLIENTS = 16;
const SECONDS = 8;
const MAX_CREATES = 5000;
const TRIALS = 3;
const WRITE_EVERY_MS = 20;
const MAX_IN_FLIGHT = 2;
const TAKEOVER_BOUND_S = REPLICA_TICK_MS / 1000 + 2;

interface Replica { name: string; service: Service }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const signed = (x: number, digits: number) => `${x >= 0 ? "+" : ""}${x.toFixed(digits)}`;

async function role(service: Service): Promise<string> {
  return (await service.call("GET", "/1.0")).body.metadata.environment.replica_role as string;
}

/** Members registered through the first service; every other one waits to see them all Online (it follows the feed). */
async function prepare(services: Service[]): Promise<void> {
  await addMembers(services[0], MEMBERS);
  for (const s of services.slice(1)) {
    await until("every replica to see the members", async () => {
      const members = (await s.call("GET", "/1.0/cluster/members?recursion=1")).body.metadata as { status: string }[];
      return members.length === MEMBERS && members.every((m) => m.status === "Online")
        && (await s.call("GET", "/1.0/storage-pools/default")).status === 200;
    });
  }
}

/** Creates/s with CLIENTS clients, request i through services[i % n], after a 1 s warm-up. */
async function createRate(services: Service[]) {
  const create = async (name: string, i: number) => (await services[i % services.length].call("POST", "/1.0/instances", createBody(name, i))).status === 202;
  await load(CLIENTS, 1000, MAX_CREATES, (i) => create(`warm${i}`, i));
  return load(CLIENTS, SECONDS * 1000, MAX_CREATES, (i) => create(`i${i}`, i));
}

/**
 * One kill -9 of the leader among `replicas`; the killed one is replaced in `replicas` by a fresh
 * start. `db` reads the leases row (its epoch grows when another replica takes the lock): when the
 * leadership changed in the database, beside when GET /1.0 shows it.
 */
async function failover(replicas: Replica[], start: (name: string) => Promise<Replica>, db: pg.Client, trial: number) {
  const epoch = async () => Number((await db.query<{ epoch: string }>("select epoch from leases where name = 'leader'")).rows[0]?.epoch ?? 0);
  const roles = await until("one leader among the replicas", async () => {
    const all = await Promise.all(replicas.map((r) => role(r.service)));
    return all.filter((x) => x === "leader").length === 1 ? all : null;
  }, 30_000);
  const leader = replicas[roles.indexOf("leader")];
  const survivors = replicas.filter((r) => r !== leader);
  let killedAt = Infinity;
  let firstWriteMs: number | null = null;
  let firstWriteBy = "";
  const before: number[] = []; // round trips of the creates accepted before the kill
  const refused: string[] = []; // what survivors answered to creates sent after the kill, before the first accepted
  let writing = true;
  let n = 0;
  // Every WRITE_EVERY_MS a create through each replica, not waiting for the last answer, but with at
  // most MAX_IN_FLIGHT unanswered per replica: more would queue on the replicas (a few dozen creates/s
  // each here) and measure the queue.
  const writers = replicas.map(async (r) => {
    const call = r.service.client();
    const inFlight = new Set<Promise<void>>();
    while (writing) {
      if (inFlight.size < MAX_IN_FLIGHT) {
        const sent = performance.now();
        const write = call("POST", "/1.0/instances", { name: `f${trial}-${n++}`, config: { "limits.cpu": "1" } }).then((res) => String(res.status), (err: Error) => err.message)
          .then((answer) => {
            const done = performance.now();
            if (answer === "202" && sent < killedAt) before.push(done - sent);
            else if (answer === "202" && firstWriteMs === null) {
              firstWriteMs = done - killedAt;
              firstWriteBy = r.name;
            } else if (answer !== "202" && sent >= killedAt && r !== leader && firstWriteMs === null) refused.push(answer);
          })
          .finally(() => inFlight.delete(write));
        inFlight.add(write);
      }
      await sleep(WRITE_EVERY_MS);
    }
    await Promise.all(inFlight);
  });
  try {
    await sleep(1000); // creates flowing through all three
    const epochBefore = await epoch();
    killedAt = performance.now();
    const gone = leader.service.kill(); // SIGKILL is sent before kill() returns
    const [leaderAt, lockedAt] = await Promise.all([
      until("a surviving replica to lead", async () =>
        (await Promise.all(survivors.map((s) => role(s.service)))).includes("leader") && performance.now(), 30_000, WRITE_EVERY_MS),
      until("the leases row to name another leader", async () => (await epoch()) > epochBefore && performance.now(), 30_000, WRITE_EVERY_MS),
    ]);
    await until("a create accepted by a surviving replica", async () => firstWriteMs !== null, 30_000, WRITE_EVERY_MS);
    await gone;
    return { killed: leader.name, firstWriteMs: firstWriteMs!, firstWriteBy, refused, beforeMs: median(before), takeoverS: (leaderAt - killedAt) / 1000, lockedS: (lockedAt - killedAt) / 1000 };
  } finally {
    writing = false;
    await Promise.all(writers);
    replicas[replicas.indexOf(leader)] = await start(leader.name);
  }
}

export async function main(): Promise<string[]> {
  const lines: string[] = [];
  const say = (line: string) => { console.log(line); lines.push(line); };
  const why = postgresUnavailable();
  if (why !== null) throw new Error(`bench replicas needs a PostgreSQL server: ${why}`);
  const services: Service[] = []; // every one started, stopped at the end whatever happened (stop is idempotent)
  const started = async (s: Promise<Service>) => {
    const service = await s;
    services.push(service);
    return service;
  };
  let server: PostgresServer | null = null;
  let db: pg.Client | null = null;
  try {
    const at = `at ${MEMBERS} members, ${CLIENTS} clients`;
    const sqlite = await started(startService());
    await prepare([sqlite]);
    const base = await createRate([sqlite]);
    await sqlite.stop();
    say(`replicas: SQLite, one berth serve: ${base.perSecond.toFixed(0)} creates/s (${base.ok} ok, ${base.failed} failed) ${at} (baseline)`);

    server = await startPostgres();
    const replica = async (name: string, store: string): Promise<Replica> =>
      ({ name, service: await started(startService({}, [], ["--store", store, "--replica-name", name, "--no-unix"])) });

    const one = await replica("solo", await server.createDatabase());
    await prepare([one.service]);
    const single = await createRate([one.service]);
    await one.service.stop();
    say(`replicas: PostgreSQL, 1 replica: ${single.perSecond.toFixed(0)} creates/s (${single.ok} ok, ${single.failed} failed) ${at}; ${(single.perSecond / base.perSecond).toFixed(2)}x SQLite`);

    const store = await server.createDatabase();
    const three = await Promise.all(["r1", "r2", "r3"].map((name) => replica(name, store)));
    await prepare(three.map((r) => r.service));
    const spread = await createRate(three.map((r) => r.service));
    say(`replicas: PostgreSQL, 3 replicas (requests round-robin): ${spread.perSecond.toFixed(0)} creates/s (${spread.ok} ok, ${spread.failed} failed) ${at}; ${(spread.perSecond / base.perSecond).toFixed(2)}x SQLite, ${(spread.perSecond / single.perSecond).toFixed(2)}x 1 replica`);

    const trials = [];
    db = new pg.Client({ connectionString: store });
    await db.connect();
    for (let t = 1; t <= TRIALS; t++) {
      const r = await failover(three, (name) => replica(name, store), db, t);
      trials.push(r);
      say(`replicas: failover ${t}: kill -9 of the leader ${r.killed}; first create accepted by a survivor (${r.firstWriteBy}) ${r.firstWriteMs.toFixed(0)} ms after${r.refused.length > 0 ? ` (${r.refused.length} refused before it: ${[...new Set(r.refused)].join(", ")})` : ""} (a create took ${r.beforeMs.toFixed(0)} ms before the kill, ${signed(r.firstWriteMs - r.beforeMs, 0)} ms); a survivor leads after ${r.takeoverS.toFixed(2)} s in GET /1.0, ${r.lockedS.toFixed(2)} s in the leases row (bound ${TAKEOVER_BOUND_S} s, ${signed(r.takeoverS - TAKEOVER_BOUND_S, 2)} s)`);
    }
    const firstWrite = median(trials.map((r) => r.firstWriteMs));
    const beforeMs = median(trials.map((r) => r.beforeMs));
    say(`replicas: failover median of ${TRIALS}: first create accepted ${firstWrite.toFixed(0)} ms after kill -9 (writer every ${WRITE_EVERY_MS} ms; a create before the kill ${beforeMs.toFixed(0)} ms, ${signed(firstWrite - beforeMs, 0)} ms)`);
    const takeover = median(trials.map((r) => r.takeoverS));
    const locked = median(trials.map((r) => r.lockedS));
    say(`replicas: failover median of ${TRIALS}: leadership taken over ${takeover.toFixed(2)} s after kill -9 in GET /1.0, ${locked.toFixed(2)} s in the leases row (bound: tick ${REPLICA_TICK_MS / 1000} s + 2 s = ${TAKEOVER_BOUND_S} s, ${signed(takeover - TAKEOVER_BOUND_S, 2)} s)`);
  } finally {
    await db?.end().catch(() => {});
    for (const s of services) await s.stop();
    await server?.stop();
  }
  return lines;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
