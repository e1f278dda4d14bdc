/** Shared by the HTTP benchmarks: a Berth service in a child process, and a loopback client. */
import { spawn, type ChildProcess } from "node:child_process";
import { Agent, request } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterExit } from "../test/support/afterExit.ts";
import { freePort } from "../test/support/ports.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const BENCH_TOKEN = "bench-admin-token";

export interface Service {
  url: string;
  /** The service's process id (for its CPU time). */
  pid: number;
  call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }>;
  /** A second client with its own connections (so one load does not queue behind another's sockets). */
  client(): (method: string, path: string, body?: unknown, token?: string) => Promise<{ status: number; body: any }>;
  /** SIGTERM (SIGKILL after 15 s), then the data dir is removed. Again after stop or kill: nothing. */
  stop(): Promise<void>;
  /** kill -9 (the signal is sent before this returns its promise), then the data dir is removed. */
  kill(): Promise<void>;
}

/**
 * Starts `berth serve` on a free loopback port with a fresh data dir; `serveArgs` go after the
 * defaults (`--store postgres://… --replica-name r1 --no-unix` for a replica).
 */
export async function startService(env: Record<string, string> = {}, nodeArgs: string[] = [], serveArgs: string[] = []): Promise<Service> {
  const dir = mkdtempSync(join(tmpdir(), "berth-bench-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, "bin/berth.js", "serve", "--listen", `127.0.0.1:${port}`, "--data", dir, "--no-local-member", ...serveArgs], {
    cwd: ROOT, env: { ...process.env, BERTH_ADMIN_TOKEN: BENCH_TOKEN, BERTH_LOG_LEVEL: "warn", ...env }, stdio: ["ignore", "ignore", "inherit"],
  });
  // Killed and its data dir removed even if this process is killed first (Ctrl-C under tsx, kill -9).
  const cancelReaper = afterExit(["kill", "-9", String(child.pid)], ["rm", "-rf", dir]);
  let gone = false;
  const exited = new Promise<void>((resolve) => child.once("exit", () => {
    gone = true;
    resolve();
  }));
  // node:http with keep-alive: a much lighter client than fetch, so the client's own cost on this
  // 2-core machine does not hide the server's.
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const agents = [agent];
  const callWith = (agent: Agent) => (method: string, path: string, body?: unknown, token = BENCH_TOKEN) => new Promise<{ status: number; body: any }>((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request({
      host: "127.0.0.1", port, path, method, agent,
      headers: { authorization: `Bearer ${token}`, ...(payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {}) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on("error", reject);
    req.end(payload);
  });
  const call = callWith(agent);
  const client = () => {
    const own = new Agent({ keepAlive: true, maxSockets: 8 });
    agents.push(own);
    return callWith(own);
  };
  let ended: Promise<void> | null = null;
  const end = (signal: NodeJS.Signals) => ended ??= (async () => {
    for (const a of agents) a.destroy();
    if (!gone) {
      child.kill(signal);
      const late = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(late);
    }
    rmSync(dir, { recursive: true, force: true });
    cancelReaper();
  })();
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/`)).ok) break;
    } catch {
      // not listening yet
    }
    if (gone || Date.now() > deadline) {
      await end("SIGKILL");
      throw new Error(gone ? "berth serve exited before it answered" : "berth serve did not answer within 60 s");
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url, call, client, pid: child.pid!,
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
  };
}

/** Runs `clients` loops of `fn` until `ms` pass or `max` calls are made; returns calls per second. */
export async function load(clients: number, ms: number, max: number, fn: (i: number) => Promise<boolean>): Promise<{ ok: number; failed: number; perSecond: number }> {
  let next = 0;
  let ok = 0;
  let failed = 0;
  const start = performance.now();
  const deadline = start + ms;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < deadline && next < max) {
      if (await fn(next++)) ok++;
      else failed++;
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  return { ok, failed, perSecond: ok / seconds };
}

/** Registers `count` equal-ish members with declared resources and heartbeats them. */
export async function addMembers(service: Service, count: number, failureDomains = 10): Promise<string[]> {
  await service.call("PATCH", "/1.0", { config: { "cluster.offline_threshold": 3600 } });
  await service.call("POST", "/1.0/storage-pools", { name: "default", driver: "dir" });
  const names = Array.from({ length: count }, (_, i) => `node${String(i).padStart(4, "0")}`);
  await load(16, 600_000, count, async (i) => {
    const name = names[i];
    const r = await service.call("POST", "/1.0/cluster/members", {
      server_name: name, failure_domain: `rack${i % failureDomains}`,
      resources: { cpu: { total: 64 }, memory: { total: 512 * 1024 ** 3 }, storage: { pools: { default: { total: 10 * 1024 ** 4 } } } },
    });
    const hb = await service.call("POST", `/1.0/cluster/members/${name}/heartbeat`, {});
    return r.status === 201 && hb.status === 200;
  });
  return names;
}

/** The create of the HTTP benchmarks: 1-4 cpus, 1-8 GiB, a 10 GiB root disk, placed automatically (202 once stored: nothing starts). */
export function createBody(name: string, i: number): unknown {
  return {
    name, config: { "limits.cpu": String(1 + (i % 4)), "limits.memory": `${1 + (i % 8)}GiB` },
    devices: { root: { type: "disk", path: "/", pool: "default", size: "10GiB" } },
  };
}
