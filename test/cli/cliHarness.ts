/** Runs the real `berth` command against a real server started in the test process. */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { startServer } from "../../src/cli/serve.ts";
import { pinnedRequestText } from "../../src/net/pinned.ts";
import { seedCertificate } from "../support/certificate.ts";
import { TestExecutor } from "../support/testExecutor.ts";

export const ADMIN_TOKEN = "test-admin-token";
const BIN = fileURLToPath(new URL("../../bin/berth.js", import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Environment on top of a clean one (no BERTH_* from the outside). Defaults to BERTH_URL/BERTH_TOKEN of the server. */
  env?: Record<string, string | undefined>;
  input?: string;
  cwd?: string;
}

export type Server = Awaited<ReturnType<typeof startServer>>;

export interface CliHarness {
  server: Server;
  /** SHA-256 of the service's certificate (BERTH_FINGERPRINT in the default environment of a TLS harness). */
  fingerprint: string;
  dataDir: string;
  /** The executor every instance action goes through: hold, fail or slow actions with it. */
  executor: TestExecutor;
  url: string;
  /** A scratch directory with no data/admin.token, used as the CLI's working directory. */
  workDir: string;
  run(args: string[], opts?: RunOptions): Promise<CliResult>;
  /** Like run, but fails the test unless the exit code is 0. */
  ok(args: string[], opts?: RunOptions): Promise<string>;
  /**
   * The API directly, as the admin: returns the envelope's metadata (throws on an error envelope).
   * An async answer is waited for: its operation is returned as it ended (throws unless it succeeded).
   */
  api<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  /** Starts `berth <args>` without waiting (for monitor). */
  spawn(args: string[]): RunningCli;
  /**
   * Starts `berth <args>` on a pseudo-terminal (util-linux `script`), so stdin, stdout and stderr
   * are a TTY; what the child writes to the terminal arrives on stdout, and what is written to
   * child.stdin is typed on it.
   */
  spawnInTerminal(args: string[]): RunningCli;
  close(): Promise<void>;
}

function baseEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("BERTH_")) env[k] = v;
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

/** tls: serve HTTPS on loopback (berth serve --tls); the default environment then pins the service's fingerprint. */
export async function startCliHarness(opts: { tls?: boolean } = {}): Promise<CliHarness> {
  const dataDir = mkdtempSync(join(tmpdir(), "berth-cli-data-"));
  const workDir = mkdtempSync(join(tmpdir(), "berth-cli-cwd-"));
  const executor = new TestExecutor();
  seedCertificate(dataDir);
  const server = await startServer({
    listen: "127.0.0.1:0", tls: opts.tls, dataDir, localMember: false, adminToken: ADMIN_TOKEN, logger: pino({ level: "silent" }),
    executor: executor.install,
  });
  const defaultEnv: Record<string, string> = { BERTH_URL: server.url, BERTH_TOKEN: ADMIN_TOKEN };
  if (opts.tls) defaultEnv.BERTH_FINGERPRINT = server.fingerprint;

  const run = (args: string[], opts: RunOptions = {}) =>
    new Promise<CliResult>((resolve) => {
      const child = execFile(
        process.execPath, [BIN, ...args],
        { env: baseEnv(opts.env ?? defaultEnv), cwd: opts.cwd ?? workDir, timeout: 20_000 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
      child.stdin?.end(opts.input ?? "");
    });

  return {
    server,
    fingerprint: server.fingerprint,
    dataDir,
    executor,
    url: server.url,
    workDir,
    run,
    async ok(args, opts) {
      const r = await run(args, opts);
      if (r.code !== 0) throw new Error(`berth ${args.join(" ")} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
      return r.stdout;
    },
    async api(method, path, body) {
      const response = await pinnedRequestText(server.url, server.fingerprint, {
        method, path, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body,
      });
      const envelope = JSON.parse(response.text) as { type: string; error?: string; metadata: unknown; operation?: string };
      if (envelope.type === "error") throw new Error(`${method} ${path}: ${envelope.error}`);
      if (envelope.type === "async" && envelope.operation) {
        const waited = await pinnedRequestText(server.url, server.fingerprint, {
          method: "GET", path: `${envelope.operation}/wait?timeout=30`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        });
        const op = (JSON.parse(waited.text) as { metadata: { status: string; err: string } }).metadata;
        if (op.status !== "Success") throw new Error(`${method} ${path}: operation ${op.status}: ${op.err}`);
        return op as any;
      }
      return envelope.metadata as any;
    },
    spawn(args) {
      return new RunningCli(spawn(process.execPath, [BIN, ...args], { env: baseEnv(defaultEnv), cwd: workDir }));
    },
    spawnInTerminal(args) {
      const quote = (arg: string) => `'${arg.replace(/'/g, "'\\''")}'`;
      // exec: the CLI replaces the shell script(1) starts, so Ctrl-C reaches only the CLI (dash, the
      // usual /bin/sh, would otherwise wait for it and then die of the same SIGINT: exit 130).
      const command = `exec ${[process.execPath, BIN, ...args].map(quote).join(" ")}`;
      return new RunningCli(spawn("script", ["-qfec", command, "/dev/null"], { env: { ...baseEnv(defaultEnv), SHELL: "/bin/sh" }, cwd: workDir }));
    },
    async close() {
      executor.releaseAll();
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

export { freePort } from "../support/ports.ts";

/** A running `berth` process (e.g. monitor) whose output is collected as it arrives. */
export class RunningCli {
  stdout = "";
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on("data", (c: Buffer) => { this.stdout += c.toString(); });
    child.stderr.on("data", (c: Buffer) => { this.stderr += c.toString(); });
    this.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  }

  /** Resolves once the predicate holds for stdout or stderr; rejects after timeoutMs. */
  async waitFor(which: "stdout" | "stderr", test: (text: string) => boolean, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!test(this[which])) {
      if (Date.now() > deadline) throw new Error(`timed out waiting on ${which}; stdout: ${this.stdout}\nstderr: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return this[which];
  }

  /** Sends SIGTERM and waits for the exit. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.kill("SIGTERM");
    return this.exited;
  }
}

/** Registers a member with declared resources and sends it a heartbeat, so it is Online. */
export async function onlineMember(h: CliHarness, name: string, extra: string[] = []): Promise<void> {
  await h.ok(["cluster", "add", name, "--cpu", "8", "--memory", "16GiB", ...extra]);
  await h.ok(["cluster", "heartbeat", name]);
}
