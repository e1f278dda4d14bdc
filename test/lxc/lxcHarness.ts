/**
 * The real `lxc` client (Debian's lxd-client, LXD 5.0.2) against a real `berth serve` child
 * process, over Berth's unix socket: LXD_SOCKET points lxc at it, and HOME / LXD_CONF are
 * temporary, so nothing of the machine's own lxc configuration is read or written.
 *
 * Without lxc on PATH the suites skip, loudly; under CI they fail (.ci/run installs lxd-client).
 */
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "vitest";
import { unixRequest } from "../support/unixHttp.ts";
import { memberBody } from "../support/memberBody.ts";

const BIN = fileURLToPath(new URL("../../bin/berth.js", import.meta.url));

/** The lxc binary on PATH, or null. */
function findLxc(): string | null {
  const found = spawnSync("sh", ["-c", "command -v lxc"], { encoding: "utf8" });
  const path = found.stdout.trim();
  return found.status === 0 && path ? path : null;
}

const LXC = findLxc();
const IN_CI = !["", "0", "false"].includes((process.env.CI ?? "").toLowerCase());

/**
 * describe() for a suite that needs lxc: skipped with a warning when lxc is missing, except under
 * CI, where the missing client is a failing test.
 */
export function describeWithLxc(name: string, body: () => void): void {
  if (LXC) {
    describe(name, body);
    return;
  }
  if (IN_CI) {
    describe(name, () => {
      it("needs the lxc client", () => {
        throw new Error("The lxc client is not installed (Debian package lxd-client); .ci/run installs it with apt-get. CI must run these tests.");
      });
    });
    return;
  }
  process.stderr.write(`\n*** SKIPPED "${name}": the lxc client is not on PATH (apt-get install lxd-client to run it) ***\n\n`);
  describe.skip(name, body);
}

export interface LxcResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface LxcHarness {
  socket: string;
  /** The service's data directory. */
  data: string;
  /** The temporary directory everything lives in (lxc's config dirs included). */
  dir: string;
  /** host:port of the service's listener (HTTPS with startLxcHarness({tls: true})). */
  address: string;
  /** Runs `lxc ARGS` against Berth's socket (or a remote named in ARGS), with lxc's config in `conf` (default: the harness's own). */
  lxc(args: string[], input?: string, conf?: string): Promise<LxcResult>;
  /** Runs lxc and fails (with its output) unless it exits 0; returns stdout. */
  ok(args: string[], input?: string, conf?: string): Promise<string>;
  /** Runs lxc and fails unless it exits non-zero; returns stderr. */
  fails(args: string[], conf?: string): Promise<string>;
  /** Starts `lxc ARGS` without waiting (lxc monitor). */
  spawn(args: string[]): RunningLxc;
  /** Berth's API over the socket, as its admin: the envelope's metadata; throws on an error. */
  api<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  /** Registers a member through Berth's API with declared resources and a first heartbeat. */
  addMember(name: string, extra?: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

/** tls: serve HTTPS on the loopback listener (--tls), for lxc remote add. */
export async function startLxcHarness(opts: { tls?: boolean } = {}): Promise<LxcHarness> {
  const dir = mkdtempSync(join(tmpdir(), "berth-lxc-"));
  const data = join(dir, "data");
  const socket = join(data, "unix.socket");
  const serveArgs = [BIN, "serve", "--listen", "127.0.0.1:0", "--data", data, "--no-local-member", ...(opts.tls ? ["--tls"] : [])];
  const server: ChildProcess = spawn(process.execPath, serveArgs, {
    env: { ...process.env, BERTH_ADMIN_TOKEN: "lxc-suite-token", BERTH_LOG_LEVEL: "warn" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let serverLog = "";
  server.stderr!.on("data", (chunk: Buffer) => { serverLog += chunk.toString(); });
  const exited = new Promise<void>((resolve) => server.once("exit", () => resolve()));

  for (let i = 0; ; i++) {
    if (existsSync(socket) && (await unixRequest(socket, "GET", "/1.0").catch(() => null))?.status === 200) break;
    if (i > 200 || server.exitCode !== null) throw new Error(`berth serve did not start on ${socket}:\n${serverLog}`);
    await new Promise((r) => setTimeout(r, 50));
  }

  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8",
    HOME: join(dir, "home"), LXD_CONF: join(dir, "lxd-conf"), LXD_SOCKET: socket,
  };
  const lxc = (args: string[], input = "", conf = env.LXD_CONF): Promise<LxcResult> => new Promise((resolve) => {
    const child = execFile(LXC!, args, { env: { ...env, LXD_CONF: conf }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
    child.stdin!.end(input);
  });
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await unixRequest(socket, method, path, body);
    if (r.body.type === "error") throw new Error(`${method} ${path}: ${r.body.error}`);
    return r.body.metadata;
  };

  const address = ((await unixRequest(socket, "GET", "/1.0")).body.metadata.environment.addresses as string[])[0];

  return {
    socket,
    data,
    dir,
    address,
    lxc,
    async ok(args, input, conf) {
      const r = await lxc(args, input, conf);
      if (r.code !== 0) throw new Error(`lxc ${args.join(" ")} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}\nberth: ${serverLog}`);
      return r.stdout;
    },
    async fails(args, conf) {
      const r = await lxc(args, "", conf);
      if (r.code === 0) throw new Error(`lxc ${args.join(" ")} succeeded, expected a failure\nstdout: ${r.stdout}`);
      return r.stderr;
    },
    spawn(args) {
      return new RunningLxc(spawn(LXC!, args, { env, stdio: ["ignore", "pipe", "pipe"] }));
    },
    api,
    async addMember(name, extra = {}) {
      await api("POST", "/1.0/cluster/members", memberBody(name, extra));
      await api("POST", `/1.0/cluster/members/${name}/heartbeat`, {});
    },
    async close() {
      server.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A running lxc process whose output is collected as it arrives. */
export class RunningLxc {
  stdout = "";
  stderr = "";

  constructor(readonly child: ChildProcess) {
    child.stdout!.on("data", (c: Buffer) => { this.stdout += c.toString(); });
    child.stderr!.on("data", (c: Buffer) => { this.stderr += c.toString(); });
  }

  stop(): void {
    this.child.kill("SIGTERM");
  }
}
