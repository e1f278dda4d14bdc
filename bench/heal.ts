/**
 * Time to heal: from the last heartbeat of a dead member holding 1,000 instances on a shared
 * (ceph) pool to all of them Running elsewhere, against a real `berth serve` with its own timers
 * (liveness and healing sweeps once a second), healing_threshold = offline_threshold = 10 s:
 *   - store executor: record-only members, heartbeated by this process (the dead one stops);
 *   - agents: three real `berth agent --driver none` processes; one is killed with -9, and a step
 *     on the others completes only when their agent reports it.
 * Printed beside the threshold measured in the same run (the moment healing may start).
 *
 *   npm run bench -- heal      (about 1 minute; opt-in)
 *   HEAL_STORE=postgres npm run bench -- heal   (the same on one PostgreSQL replica, a throwaway server)
 *
 * Goal: threshold + 2 s.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { postgresUnavailable, startPostgres, type PostgresServer } from "../test/support/postgresServer.ts";
import { load, startService, type Service } from "./support.ts";

const INSTANCES = 1000;
const THRESHOLD_S = 10;
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** User + system CPU seconds a process has used so far (Linux USER_HZ = 100). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function prepare(service: Service): Promise<void> {
  await service.call("PATCH", "/1.0", { config: { "cluster.offline_threshold": THRESHOLD_S, "cluster.healing_threshold": THRESHOLD_S,
    // HEAL_PARALLEL=N: cluster.healing.max_parallel (default: the service's, 256).
    ...(process.env.HEAL_PARALLEL ? { "cluster.healing.max_parallel": Number(process.env.HEAL_PARALLEL) } : {}) } });
  await service.call("POST", "/1.0/storage-pools", { name: "ceph", driver: "ceph" });
}

/** Creates the instances on `member`, started, their root disks on the ceph pool. */
async function fill(service: Service, member: string): Promise<void> {
  const r = await load(16, 600_000, INSTANCES, async (i) => {
    const created = await service.call("POST", `/1.0/instances?target=${member}`, {
      name: `i${i}`, start: true, devices: { root: { type: "disk", path: "/", pool: "ceph" } },
    });
    if (created.status !== 202) return false;
    const op = await service.call("GET", `${created.body.operation}/wait?timeout=120`);
    return op.body.metadata?.status === "Success";
  });
  if (r.failed > 0) throw new Error(`${r.failed} creates failed`);
}

/**
 * Waits for the heal of `dead` to end and checks that every instance runs elsewhere; returns the
 * moment it ended (performance.now()). It watches the operation, not the instance list: listing
 * 1,000 instances ten times a second would cost the service more than the heal it measures.
 */
async function healed(service: Service, dead: string): Promise<{ done: number; began: number }> {
  // Cheap to ask while waiting: the member turns Evacuating when its heal begins. Listing the
  // operations instead (thousands, after the creates) would cost the service more than the wait.
  for (;;) {
    const member = (await service.call("GET", `/1.0/cluster/members/${dead}`)).body.metadata as { status: string };
    if (member.status === "Evacuating" || member.status === "Evacuated") break;
    await sleep(20);
  }
  const grouped = (await service.call("GET", "/1.0/operations?recursion=1")).body.metadata as Record<string, { id: string; description: string; created_at: string }[]>;
  const heal = Object.values(grouped).flat().find((op) => op.description === `Healing cluster member "${dead}"`);
  if (!heal) throw new Error(`no heal operation for ${dead}`);
  for (;;) {
    const op = (await service.call("GET", `/1.0/operations/${heal.id}/wait?timeout=60`)).body.metadata as { status: string; err?: string };
    if (op.status === "Running") continue;
    const done = performance.now();
    if (op.status !== "Success") throw new Error(`the heal ended ${op.status}: ${op.err}`);
    const list = (await service.call("GET", "/1.0/instances?recursion=1")).body.metadata as { location: string; status: string }[];
    const left = list.filter((i) => i.location === dead || i.status !== "Running");
    if (list.length !== INSTANCES || left.length > 0) throw new Error(`after the heal ${left.length} of ${list.length} instances are not running elsewhere`);
    // created_at is the service's wall clock, on this machine: when the heal began.
    return { done, began: performance.now() - (Date.now() - Date.parse(heal.created_at)) };
  }
}

function report(label: string, lastBeat: number, { done, began }: { done: number; began: number }): void {
  const seconds = (done - lastBeat) / 1000;
  console.log(`heal (${label}): ${INSTANCES} instances running elsewhere ${seconds.toFixed(2)} s after the last heartbeat ` +
    `(threshold ${THRESHOLD_S} s, +${(seconds - THRESHOLD_S).toFixed(2)} s; goal ≤ threshold + 2 s): ` +
    `the heal began at +${((began - lastBeat) / 1000 - THRESHOLD_S).toFixed(2)} s and ran ${((done - began) / 1000).toFixed(2)} s`);
}

async function withStoreExecutor(): Promise<void> {
  const service = await startService({}, [], await storeArgs());
  let beating = true;
  try {
    await prepare(service);
    const names = ["n0", "n1", "n2", "n3"];
    const resources = { cpu: { total: 256 }, memory: { total: 1024 * 1024 ** 3 }, storage: { pools: { ceph: { total: 100 * 1024 ** 4 } } } };
    for (const name of names) await service.call("POST", "/1.0/cluster/members", { server_name: name, resources });
    let alive = new Set(names);
    const beats = (async () => {
      while (beating) {
        await Promise.all([...alive].map((n) => service.call("POST", `/1.0/cluster/members/${n}/heartbeat`, {})));
        await sleep(1000);
      }
    })();
    await sleep(300);
    await fill(service, "n0");
    // n0 dies right after a heartbeat.
    await service.call("POST", "/1.0/cluster/members/n0/heartbeat", {});
    const lastBeat = performance.now();
    alive = new Set(names.slice(1));
    report("store executor", lastBeat, await healed(service, "n0"));
    beating = false;
    await beats;
  } finally {
    beating = false;
    await service.stop();
  }
}

async function withAgents(): Promise<void> {
  const service = await startService({}, process.env.HEAL_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.HEAL_PROF}/service`] : [], await storeArgs());
  const agents: { child: ChildProcess; data: string }[] = [];
  try {
    await prepare(service);
    for (const name of ["a0", "a1", "a2"]) {
      await service.call("POST", "/1.0/cluster/members", { server_name: name, resources: { cpu: { total: 256 }, memory: { total: 1024 * 1024 ** 3 } } });
      const token = (await service.call("POST", "/1.0/tokens", { role: "agent", member: name })).body.metadata.token;
      const data = mkdtempSync(join(tmpdir(), `berth-bench-${name}-`));
      const prof = process.env.HEAL_PROF ? [`--cpu-prof`, `--cpu-prof-dir=${process.env.HEAL_PROF}`] : [];
      // HEAL_AGENT_LOGS=DIR: each agent's log at level info into DIR/NAME.log.
      const logs = process.env.HEAL_AGENT_LOGS;
      const child = spawn(process.execPath, [...prof, "bin/berth.js", "agent", "--url", service.url, "--token", token, "--name", name, "--data", data, "--driver", "none"], {
        cwd: ROOT, env: { ...process.env, BERTH_LOG_LEVEL: logs ? "info" : "warn" }, stdio: ["ignore", "ignore", logs ? openSync(join(logs, `${name}.log`), "w") : "inherit"],
      });
      agents.push({ child, data });
    }
    for (;;) {
      const members = (await service.call("GET", "/1.0/cluster/members?recursion=1")).body.metadata as { status: string; agent: unknown }[];
      if (members.every((m) => m.status === "Online" && m.agent)) break;
      await sleep(100);
    }
    await fill(service, "a0");
    // kill -9 a0's agent right after a heartbeat of its own.
    const before = (await service.call("GET", "/1.0/cluster/members/a0")).body.metadata.last_heartbeat;
    for (;;) {
      const now = (await service.call("GET", "/1.0/cluster/members/a0")).body.metadata.last_heartbeat;
      if (now !== before) break;
      await sleep(20);
    }
    agents[0].child.kill("SIGKILL");
    const lastBeat = performance.now();
    const cpu = () => [service.pid, agents[1].child.pid!, agents[2].child.pid!].map(cpuSeconds);
    const before0 = cpu();
    report("agents, none driver", lastBeat, await healed(service, "a0"));
    const used = cpu().map((c, i) => c - before0[i]);
    console.log(`heal (agents, none driver): CPU seconds meanwhile: service ${used[0].toFixed(2)}, the two agents ${used[1].toFixed(2)} and ${used[2].toFixed(2)}`);
  } finally {
    for (const { child, data } of agents) {
      child.kill(process.env.HEAL_PROF ? "SIGINT" : "SIGKILL");
      if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once("exit", r));
      rmSync(data, { recursive: true, force: true });
    }
    await service.stop();
  }
}

let postgres: PostgresServer | null = null;

/** `berth serve` arguments for the store: SQLite, or with HEAL_STORE=postgres a new database on the throwaway server. */
async function storeArgs(): Promise<string[]> {
  if (!postgres) return [];
  return ["--store", await postgres.createDatabase(), "--replica-name", "heal", "--no-unix"];
}

export async function main(): Promise<void> {
  const only = process.env.HEAL_ONLY; // "store" or "agents": one half
  if (process.env.HEAL_STORE === "postgres") {
    const why = postgresUnavailable();
    if (why !== null) throw new Error(`HEAL_STORE=postgres needs a PostgreSQL server: ${why}`);
    postgres = await startPostgres();
    console.log("heal: on PostgreSQL (one replica)");
  }
  try {
    if (only !== "agents") await withStoreExecutor();
    if (only !== "store") await withAgents();
  } finally {
    await postgres?.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
