/**
 * Real standalone LXD 5.0.2 daemons on this machine, one per simulated host, for the lxd driver's
 * tests (shared/notes/lxd-on-one-machine.md): each has its own directory and unix socket, a `dir`
 * pool named `default`, a `default` profile with a root disk on it, core.https_address on a free
 * loopback port (the migration API's pull mode needs it), and a tiny busybox image imported from a
 * tarball built here (no download). The image's init traps SIGPWR so a clean stop is quick.
 *
 * No vitest here (bench/lxd-evacuate.ts uses it too): describeWithLxd.ts gates the suites.
 */
import { execFile, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { freePort } from "../support/ports.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alive } from "../agent/support.ts";

export const IMAGE_ALIAS = "berth-busybox";
const BUSYBOX = ["/bin/busybox", "/usr/bin/busybox"].find((p) => existsSync(p) && isStatic(p));

function isStatic(path: string): boolean {
  const out = spawnSync("sh", ["-c", `file -L '${path}' 2>/dev/null || ldd '${path}' 2>&1`], { encoding: "utf8" }).stdout;
  return /statically linked|not a dynamic executable/.test(out);
}

/** Why LXD cannot run here, or null. */
export function lxdMissing(): string | null {
  const lxd = spawnSync("sh", ["-c", "command -v lxd && command -v lxc"], { encoding: "utf8" });
  if (lxd.status !== 0) return "lxd or lxc is not on PATH (apt-get install lxd)";
  if (!BUSYBOX) return "no static busybox (apt-get install busybox-static)";
  if (process.getuid?.() !== 0) return "LXD needs root";
  return null;
}

export interface LxcResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** One standalone LXD daemon. */
export class LxdHost {
  pid = 0;
  killed = false;

  constructor(
    readonly name: string,
    /** Its LXD_DIR. */
    readonly dir: string,
    readonly httpsAddress: string,
  ) {}

  get socket(): string {
    return join(this.dir, "unix.socket");
  }

  private env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, LXD_DIR: this.dir, HOME: this.dir, LXD_CONF: join(this.dir, ".lxc-conf") };
    delete env.LXD_SOCKET;
    return env;
  }

  /** `lxc ARGS` against this daemon. */
  lxc(args: string[], input?: string, timeoutMs = 120_000): Promise<LxcResult> {
    return new Promise((resolve) => {
      const child = execFile("lxc", args, { env: this.env(), timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
      child.stdin!.end(input ?? ""); // lxc init/launch read a config from a stdin that is not a terminal
    });
  }

  async ok(args: string[], input?: string): Promise<string> {
    const r = await this.lxc(args, input);
    if (r.code !== 0) throw new Error(`lxc ${args.join(" ")} on ${this.name} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** name → status (RUNNING, STOPPED) of the daemon's instances, as `lxc list` shows them. */
  async list(): Promise<Record<string, string>> {
    const out = await this.ok(["list", "--format", "json"]);
    return Object.fromEntries((JSON.parse(out) as { name: string; status: string }[]).map((i) => [i.name, i.status.toUpperCase()]));
  }

  /** The LXD API over the unix socket: the envelope's metadata; async operations are waited for. */
  async api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const envelope = await unixJson(this.socket, method, path, body);
    if (envelope.type === "error") throw new Error(`${method} ${path} on ${this.name}: ${envelope.error}`);
    if (envelope.type === "async") {
      const op = await unixJson(this.socket, "GET", `${envelope.operation}/wait?timeout=120`);
      if (op.metadata?.status !== "Success") throw new Error(`${method} ${path} on ${this.name}: ${op.metadata?.err ?? op.error}`);
      return op.metadata as T;
    }
    return envelope.metadata as T;
  }

  /** Processes belonging to this daemon: the daemon, and its containers' monitors and payloads. */
  processes(): number[] {
    const pids = new Set<number>();
    if (this.pid) pids.add(this.pid);
    const byParent = new Map<number, number[]>();
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
        if (cmdline.includes(this.dir)) pids.add(pid);
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        byParent.set(ppid, [...(byParent.get(ppid) ?? []), pid]);
      } catch {
        // gone meanwhile
      }
    }
    // Every descendant of those (a container's init and what it runs).
    const queue = [...pids];
    while (queue.length > 0) {
      for (const child of byParent.get(queue.pop()!) ?? []) {
        if (!pids.has(child)) {
          pids.add(child);
          queue.push(child);
        }
      }
    }
    return [...pids].filter((p) => p !== process.pid);
  }

  /** A host dying: SIGKILL to the daemon and to every process of its containers. */
  kill(): void {
    this.killed = true;
    for (const pid of this.processes()) quietKill(pid);
  }

  /** Stops and deletes every instance, shuts the daemon down, removes its directory. */
  async destroy(): Promise<void> {
    if (!this.killed && this.pid && alive(this.pid)) {
      try {
        const names = Object.keys(await this.list());
        for (const name of names) await this.lxc(["delete", "--force", name], undefined, 60_000);
        await run("lxd", ["shutdown", "--timeout", "60"], this.env(), 90_000);
      } catch {
        // killed below
      }
    }
    for (const pid of this.processes()) quietKill(pid);
    unmountUnder(this.dir);
    rmSync(this.dir, { recursive: true, force: true });
    rmSync(`${this.dir}.log`, { force: true });
  }

  /** Starts the daemon; initialises it as a standalone host (pool, profile, network address) unless given another preseed. */
  async start(preseed?: string): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    chmodSync(this.dir, 0o711);
    const child = spawn("lxd", ["--group", "root", "--logfile", `${this.dir}.log`], { env: this.env(), detached: true, stdio: "ignore" });
    child.unref();
    this.pid = child.pid!;
    const ready = await run("lxd", ["waitready", "--timeout", "60"], this.env(), 90_000);
    if (ready.code !== 0) throw new Error(`LXD in ${this.dir} did not start: ${ready.stderr} ${tail(`${this.dir}.log`)}`);
    preseed ??= [
      "config:", `  core.https_address: ${this.httpsAddress}`,
      "storage_pools:", "- name: default", "  driver: dir",
      "profiles:", "- name: default", "  devices:", "    root:", "      path: /", "      pool: default", "      type: disk",
    ].join("\n");
    const init = await run("lxd", ["init", "--preseed"], this.env(), 60_000, preseed);
    if (init.code !== 0) throw new Error(`lxd init --preseed in ${this.dir} failed: ${init.stderr}`);
  }
}

/** Starts count daemons named host1…hostN (a prefix keeps them apart from other runs) with the busybox image imported. */
export async function startLxdHosts(count: number, prefix = "lxd"): Promise<{ hosts: LxdHost[]; root: string; image: string }> {
  const root = mkdtempSync(join(tmpdir(), `berth-${prefix}-`));
  chmodSync(root, 0o711);
  const image = buildBusyboxImage(root);
  const hosts: LxdHost[] = [];
  try {
    for (let i = 1; i <= count; i++) {
      const host = new LxdHost(`host${i}`, join(root, `host${i}`), `127.0.0.1:${await freePort()}`);
      hosts.push(host);
      await host.start();
      await host.ok(["image", "import", image, "--alias", IMAGE_ALIAS]);
    }
  } catch (err) {
    await Promise.allSettled(hosts.map((h) => h.destroy()));
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  return { hosts, root, image };
}

export async function stopLxdHosts(started: { hosts: LxdHost[]; root: string } | undefined): Promise<void> {
  if (!started) return;
  for (const host of started.hosts) await host.destroy();
  rmSync(started.root, { recursive: true, force: true });
}

/**
 * A ≈1 MB image: metadata.yaml and a rootfs of busybox, whose init runs a sleep loop and exits on
 * SIGPWR (LXD's clean stop) or SIGTERM.
 */
export function buildBusyboxImage(root: string): string {
  const dir = join(root, "image");
  for (const sub of ["bin", "sbin", "tmp", "proc", "sys", "dev", "etc", "root", "var"]) mkdirSync(join(dir, "rootfs", sub), { recursive: true });
  spawnSync("cp", [BUSYBOX!, join(dir, "rootfs/bin/busybox")]);
  for (const applet of ["sh", "cat", "echo", "ls", "sleep", "touch", "ps"]) symlinkSync("busybox", join(dir, "rootfs/bin", applet));
  writeFileSync(join(dir, "rootfs/sbin/init"), "#!/bin/sh\ntrap 'exit 0' PWR TERM\nwhile true; do sleep 1 & wait $!; done\n", { mode: 0o755 });
  writeFileSync(join(dir, "metadata.yaml"), `architecture: x86_64\ncreation_date: ${Math.floor(Date.now() / 1000)}\nproperties:\n  description: Berth test busybox\n`);
  const tarball = join(root, "busybox.tar.gz");
  const tar = spawnSync("tar", ["-C", dir, "-czf", tarball, "metadata.yaml", "rootfs"], { encoding: "utf8" });
  if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr}`);
  return tarball;
}


function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number, input?: string): Promise<LxcResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env, timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err ? 1 : 0, stdout, stderr: stderr || (err ? err.message : "") });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

function unixJson(socketPath: string, method: string, path: string, body?: unknown): Promise<any> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ socketPath, method, path, headers: payload ? { "content-type": "application/json" } : {} }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => { text += c.toString(); });
      res.on("end", () => {
        try {
          resolve(JSON.parse(text));
        } catch {
          reject(new Error(`${method} ${path}: not JSON: ${text.slice(0, 200)}`));
        }
      });
    });
    req.on("error", reject);
    req.end(payload);
  });
}

/** Unmounts whatever a killed daemon left mounted under dir (deepest first). */
function unmountUnder(dir: string): void {
  const mounts = readFileSync("/proc/mounts", "utf8").split("\n").map((l) => l.split(" ")[1]).filter((m) => m && (m === dir || m.startsWith(`${dir}/`)));
  for (const m of mounts.sort((a, b) => b.length - a.length)) spawnSync("umount", ["-l", m]);
}

function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-10).join("\n");
  } catch {
    return "";
  }
}

export { alive };

function quietKill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // gone
  }
}
