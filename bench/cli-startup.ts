/**
 * Start-up of the compiled `berth` (bin/berth.js → dist/), each beside Node's own start measured in
 * the same run:
 *
 * - a CLI call: `node -e 0` (the floor), `berth --help` (no request; loads every command) and
 *   `berth cluster list` against a running service, RUNS times each, interleaved so that a load
 *   spike on this shared machine hits them alike; median and p90 of the wall time from spawn to
 *   exit.
 * - `berth serve`: from spawn until `GET /1.0` answers (polled every 5 ms) and until a placement
 *   query answers (it waits for the stored instances to be loaded into the scheduler), with an
 *   empty store and with a store filled beforehand (through the Store, in one transaction) with
 *   1,000 members and 100,000 instances; without the embedded local member, then with it.
 *
 *   npm run bench -- cli-startup        (about a minute; npm run bench builds dist/ first,
 *                                         npx tsx bench/cli-startup.ts does not)
 *
 * Targets: `berth cluster list` within 120 ms of `node -e 0` (median); `berth serve` answering
 * GET /1.0 within 1 s with 1,000 members and 100,000 instances.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Instance, MemberResources } from "../src/domain/types.ts";
import { SqliteStore } from "../src/store/sqliteStore.ts";
import { freePort } from "../test/support/ports.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "bin", "berth.js");
const TOKEN = "bench-admin-token";
const RUNS = 20;
const SERVE_STARTS = 3;
const MEMBERS = 1000;
const INSTANCES = 100_000;
const GiB = 1024 ** 3;

/** Wall time of one process from spawn to exit, in ms; a non-zero exit fails the benchmark. */
function timeProcess(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => { stderr += c.toString(); });
    child.once("error", reject);
    child.once("exit", (code) => {
      const ms = performance.now() - started;
      if (code === 0) resolve(ms);
      else reject(new Error(`${argv.join(" ")} exited ${code}: ${stderr}`));
    });
  });
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const ms = (x: number) => `${x.toFixed(0)} ms`;
const diff = (x: number) => `${x < 0 ? "-" : "+"}${ms(Math.abs(x))}`;

/** One request to the service; resolves with the status, or 0 when nothing answers yet. */
function call(port: number, method: string, path: string, body?: unknown): Promise<number> {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { authorization: `Bearer ${TOKEN}` };
    if (payload) Object.assign(headers, { "content-type": "application/json", "content-length": Buffer.byteLength(payload) });
    const req = request({ host: "127.0.0.1", port, path, method, headers, agent: false }, (res) => {
      res.resume();
      res.once("end", () => resolve(res.statusCode ?? 0));
    });
    req.once("error", () => resolve(0));
    req.end(payload);
  });
}

interface Serving {
  port: number;
  /** ms from spawn until GET /1.0 answered 200. */
  readyMs: number;
  /** ms from spawn until a placement query (which waits for the scheduler's view) answered 200. */
  placementMs: number;
  stop(): Promise<void>;
}

/**
 * Spawns `berth serve` on a loopback port over dataDir and polls GET /1.0 every 5 ms until it
 * answers 200; then asks for a placement (answered once the stored instances are loaded).
 */
async function serve(dataDir: string, localMember = false): Promise<Serving> {
  const port = await freePort();
  const started = performance.now();
  const args = [BIN, "serve", "--listen", `127.0.0.1:${port}`, "--data", dataDir, ...(localMember ? [] : ["--no-local-member"])];
  const child = spawn(process.execPath, args, {
    cwd: ROOT, env: { ...process.env, BERTH_ADMIN_TOKEN: TOKEN, BERTH_LOG_LEVEL: "warn" }, stdio: ["ignore", "ignore", "inherit"],
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once("exit", () => { exited = true; resolve(); }));
  for (;;) {
    if (exited) throw new Error(`berth serve on port ${port} exited before answering`);
    const status = await call(port, "GET", "/1.0");
    if (status === 200) break;
    if (status !== 0) throw new Error(`berth serve answered GET /1.0 with ${status}`);
    if (performance.now() - started > 60_000) throw new Error("berth serve did not answer within 60 s");
    await new Promise((r) => setTimeout(r, 5));
  }
  const readyMs = performance.now() - started;
  const placed = await call(port, "POST", "/1.0/scheduler/placement", { name: "bench-probe" });
  if (placed !== 200) throw new Error(`the placement query answered ${placed}`);
  const placementMs = performance.now() - started;
  return {
    port, readyMs, placementMs,
    async stop() {
      child.kill("SIGTERM");
      await exit;
    },
  };
}

/** A data dir whose store holds `members` members (heartbeated, Online) and `instances` instances spread over them. */
async function filledDataDir(members: number, instances: number): Promise<{ dir: string; fillMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), "berth-bench-startup-"));
  const started = performance.now();
  const store = new SqliteStore(join(dir, "berth.db"));
  const now = Date.now();
  const resources: MemberResources = {
    cpu: { architecture: "x86_64", total: 64 },
    memory: { total: 512 * GiB, used: 0 },
    storage: { pools: { default: { total: 10 * 1024 * GiB, used: 0 } } },
    gpu: { total: 0, cards: [] },
    load: { average_1m: 0, average_5m: 0, average_15m: 0, processes: 0 },
  } as MemberResources;
  await store.transaction(async (tx) => {
    await tx.insertGroup("default", "Default cluster group", []);
    await tx.insertProject({ name: "default", description: "Default project", config: {} });
    await tx.insertPool({ name: "default", driver: "dir", description: "", config: {}, status: "Created", defined_on: [] });
    await tx.writeConfig({ "cluster.offline_threshold": "3600" });
    const names: string[] = [];
    for (let m = 0; m < members; m++) {
      const name = `node${String(m).padStart(4, "0")}`;
      names.push(name);
      await tx.insertMember({
        server_name: name, url: "", architecture: "x86_64", failure_domain: `rack${m % 10}`, description: "",
        roles: [], config: {}, groups: ["default"], resources,
      }, now);
      await tx.recordHeartbeats([{ name, resources, state: null, at: now }]);
    }
    for (let i = 0; i < instances; i++) {
      const instance: Instance = {
        name: `i${i}`, project: "default", type: "container", architecture: "x86_64", location: names[i % members],
        status: "Running", description: "", config: { "limits.cpu": String(1 + (i % 4)), "limits.memory": `${1 + (i % 8)}GiB` },
        devices: { root: { type: "disk", path: "/", pool: "default", size: "10GiB" } }, profiles: ["default"],
        created_at: new Date(now).toISOString(),
      };
      await tx.insertInstance(instance);
    }
  });
  await store.close();
  return { dir, fillMs: performance.now() - started };
}

interface Starts {
  ready: number; // median ms until GET /1.0 answered
  readyMax: number;
  placement: number; // median ms until a placement query answered
}

/** SERVE_STARTS starts of `berth serve` over dataDir. */
async function serveStarts(dataDir: string, localMember = false): Promise<Starts> {
  const ready: number[] = [];
  const placement: number[] = [];
  for (let i = 0; i < SERVE_STARTS; i++) {
    const s = await serve(dataDir, localMember);
    ready.push(s.readyMs);
    placement.push(s.placementMs);
    await s.stop();
  }
  ready.sort((a, b) => a - b);
  placement.sort((a, b) => a - b);
  return { ready: quantile(ready, 0.5), readyMax: ready[ready.length - 1], placement: quantile(placement, 0.5) };
}

export async function main(): Promise<string[]> {
  const lines: string[] = [];
  const say = (line: string) => { console.log(line); lines.push(line); };

  // ---- CLI calls ----------------------------------------------------------------------------
  const dataDir = mkdtempSync(join(tmpdir(), "berth-bench-cli-"));
  const service = await serve(dataDir);
  const env: NodeJS.ProcessEnv = { ...process.env, BERTH_URL: `http://127.0.0.1:${service.port}`, BERTH_TOKEN: TOKEN };
  const cases: [string, string[]][] = [
    ["node -e 0", [process.execPath, "-e", "0"]],
    ["berth --help", [process.execPath, BIN, "--help"]],
    ["berth cluster list", [process.execPath, BIN, "cluster", "list"]],
  ];
  const times: number[][] = cases.map(() => []);
  try {
    for (const [, argv] of cases) await timeProcess(argv, env); // warm the file cache
    for (let run = 0; run < RUNS; run++) {
      for (let c = 0; c < cases.length; c++) times[c].push(await timeProcess(cases[c][1], env));
    }
  } finally {
    await service.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const sorted = times.map((t) => [...t].sort((a, b) => a - b));
  const floor = quantile(sorted[0], 0.5);
  for (let c = 0; c < cases.length; c++) {
    const median = quantile(sorted[c], 0.5);
    const vs = c === 0 ? "baseline" : `${diff(median - floor)} over node -e 0`;
    say(`cli-startup: ${cases[c][0].padEnd(18)} median ${ms(median)}, p90 ${ms(quantile(sorted[c], 0.9))} over ${RUNS} runs; ${vs}`);
  }

  // ---- berth serve ----------------------------------------------------------------------------
  const empty = mkdtempSync(join(tmpdir(), "berth-bench-startup-"));
  const filled = await filledDataDir(MEMBERS, INSTANCES);
  const what = `${MEMBERS.toLocaleString("en-US")} members + ${INSTANCES.toLocaleString("en-US")} instances`;
  try {
    say(`cli-startup: store filled with ${what} in ${(filled.fillMs / 1000).toFixed(1)} s (not timed below)`);
    say(`cli-startup: berth serve --no-local-member, from spawn, median of ${SERVE_STARTS} starts:`);
    const base = await serveStarts(empty);
    say(`cli-startup:   empty store:     GET /1.0 answered at ${ms(base.ready)} (max ${ms(base.readyMax)}), a placement at ${ms(base.placement)}; baseline`);
    const full = await serveStarts(filled.dir);
    say(`cli-startup:   ${what}: GET /1.0 answered at ${ms(full.ready)} (max ${ms(full.readyMax)}), a placement at ${ms(full.placement)}; ` +
      `${diff(full.ready - base.ready)} and ${diff(full.placement - base.placement)} over the empty store`);
    const local = await serveStarts(filled.dir, true);
    say(`cli-startup:   the same with the local member (as npm start): GET /1.0 at ${ms(local.ready)}, a placement at ${ms(local.placement)}; ` +
      `${diff(local.ready - full.ready)} over --no-local-member (probing this machine)`);
  } finally {
    rmSync(empty, { recursive: true, force: true });
    rmSync(filled.dir, { recursive: true, force: true });
  }
  return lines;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
