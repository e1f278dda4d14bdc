/**
 * A throwaway PostgreSQL server for the tests and benchmarks that need one: Debian's server
 * binaries (/usr/lib/postgresql/<version>/bin, package postgresql-15, which .ci/run installs)
 * run an `initdb` cluster in a temporary directory on a free loopback port, with trust
 * authentication for loopback connections. initdb and the server refuse to run as root: as root
 * they run as the `postgres` user (`runuser -u postgres`), in a directory owned by that user.
 *
 * No vitest here, so that bench/ can start one too (bench/replicas.ts); the tests' skip-or-fail
 * wrapper is in ./postgres.ts.
 */
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { afterExit } from "./afterExit.ts";
import { freePort } from "./ports.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

const PG_ROOT = "/usr/lib/postgresql";

/** The newest Debian server binaries installed, or null. BERTH_PG_BIN overrides. */
export function postgresBinDir(): string | null {
  const given = process.env.BERTH_PG_BIN;
  if (given) return existsSync(join(given, "initdb")) ? given : null;
  if (!existsSync(PG_ROOT)) return null;
  const versions = readdirSync(PG_ROOT).filter((v) => existsSync(join(PG_ROOT, v, "bin", "initdb"))).sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(PG_ROOT, versions[0], "bin") : null;
}

const isRoot = () => process.getuid?.() === 0;

/** Why no server can be started here, or null when one can. */
export function postgresUnavailable(): string | null {
  if (postgresBinDir() === null) return `no PostgreSQL server binaries under ${PG_ROOT}/*/bin (apt-get install postgresql-15; .ci/run installs it)`;
  if (isRoot() && spawnSync("id", ["-u", "postgres"]).status !== 0) return "running as root, and there is no postgres user to run the server as (the postgresql-15 package creates it)";
  return null;
}

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  /** A fresh, empty database; returns its URL. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

let databases = 0;

/** initdb + pg_ctl start in a new temporary directory; the server listens on loopback only. */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const why = postgresUnavailable();
  if (bin === null || why !== null) throw new Error(why ?? "no PostgreSQL");
  const dir = mkdtempSync(join(tmpdir(), "berth-pg-"));
  const data = join(dir, "data");
  const asServerUser = (file: string, args: string[]) =>
    (isRoot() ? ["runuser", ["-u", "postgres", "--", join(bin, file), ...args]] : [join(bin, file), args]) as [string, string[]];
  if (isRoot()) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  // From here on, whatever happens (a failed initdb, this process killed), the server is stopped and
  // the directory removed once this process is gone, unless stop() did it.
  const stopArgs = ["-D", data, "-m", "immediate", "-w", "stop"];
  const cancelReaper = afterExit(asServerUser("pg_ctl", stopArgs).flat(), ...(process.env.BERTH_PG_KEEP ? [] : [["rm", "-rf", dir]]));
  const remove = () => {
    cancelReaper();
    if (process.env.BERTH_PG_KEEP) console.warn(`kept the PostgreSQL directory ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };
  const run = (file: string, args: string[], timeout = 120_000) => new Promise<void>((resolve, reject) => {
    const [cmd, argv] = asServerUser(file, args);
    execFile(cmd, argv, { encoding: "utf8", timeout }, (err, stdout, stderr) =>
      err ? reject(new Error(`${file} ${args.join(" ")} failed (${err.code ?? err.signal}): ${stderr || stdout}`)) : resolve());
  });
  await run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"]);
  const port = await freePort();
  // fsync off: a test server's data is thrown away; durability across a crash of the *server* is
  // not what these tests are about (a crash of a Berth replica is).
  const settings = [
    `port=${port}`, "listen_addresses=127.0.0.1", `unix_socket_directories=${dir}`, "fsync=off",
    "synchronous_commit=off", "full_page_writes=off", "max_connections=300", "shared_buffers=32MB",
  ];
  await run("pg_ctl", ["-D", data, "-l", join(dir, "server.log"), "-w", "-t", "120", "-o", settings.map((s) => `-c ${s}`).join(" "), "start"], 150_000);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopping: Promise<void> | null = null;
  const stop = () => stopping ??= run("pg_ctl", stopArgs, 60_000).catch(() => {}).then(remove);
  return {
    url,
    port,
    async createDatabase() {
      const name = `berth_${process.pid}_${++databases}`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`create database ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    stop,
  };
}
