/** Helpers of the agent tests: waiting without wall-clock assertions, the ticker command, real processes and their clean-up. */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import type { DriverContext } from "../../src/agent/drivers/driver.ts";

export const BIN = fileURLToPath(new URL("../../bin/berth.js", import.meta.url));

/** Polls test until it holds; fails naming what was awaited after timeoutMs (generous: the machine is shared). */
export async function waitUntil(test: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await test()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `berth-${prefix}-`));
}

/** A command that appends "<its pid> <nanoseconds>" to file every 100 ms, as a user's service would log. */
export function tickerCommand(file: string): string {
  return `while true; do echo "$$ $(date +%s%N)" >> '${file}'; sleep 0.1; done`;
}

/** The lines a ticker wrote: pid and time of each. */
export function ticks(file: string): { pid: number; at: bigint }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => /^\d+ \d+$/.test(line))
    .map((line) => {
      const [pid, at] = line.split(" ");
      return { pid: Number(pid), at: BigInt(at) };
    });
}

/** The distinct pids that wrote to file after its first `after` lines. */
export function tickPidsAfter(file: string, after: number): Set<number> {
  return new Set(ticks(file).slice(after).map((t) => t.pid));
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether any process of the group lives (zombies aside: /proc says who they are). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  // A reaped-late zombie still counts for kill(); look for a live member instead.
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid && fields[0] !== "Z") return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}

/** Every supervisor and command group recorded under an agent data directory. */
export function recordedProcesses(data: string): { supervisor: number; group?: number }[] {
  const found: { supervisor: number; group?: number }[] = [];
  const root = join(data, "instances");
  if (!existsSync(root)) return found;
  for (const project of readdirSync(root)) {
    for (const name of readdirSync(join(root, project))) {
      const file = join(root, project, name, "state.json");
      try {
        const state = JSON.parse(readFileSync(file, "utf8")) as { supervisorPid?: number; pid?: number };
        if (state.supervisorPid) found.push({ supervisor: state.supervisorPid, group: state.pid });
      } catch {
        // no state
      }
    }
  }
  return found;
}

/**
 * Kills whatever an agent data directory's supervisors run — those recorded in state.json, and any
 * process whose command line names the directory (a supervisor caught starting) — then removes it.
 */
export function cleanUpData(data: string): void {
  for (const { supervisor, group } of recordedProcesses(data)) {
    if (group) quietKill(-group, "SIGKILL");
    quietKill(supervisor, "SIGKILL");
  }
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(data)) {
        quietKill(-Number(entry), "SIGKILL");
        quietKill(Number(entry), "SIGKILL");
      }
    } catch {
      // gone meanwhile
    }
  }
  rmSync(data, { recursive: true, force: true });
}

export function quietKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone
  }
}

export function driverContext(data: string, member = "m1"): DriverContext {
  return { data, member, logger: pino({ level: "silent" }) };
}

/** A `berth agent` process (bin/berth.js, the compiled agent), its stderr collected. */
export class AgentProcess {
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly child: ChildProcess;

  /** wrap: a command that execs the agent (e.g. `ip netns exec NS`), so the pid stays the agent's. */
  constructor(args: string[], env: Record<string, string> = {}, wrap: string[] = []) {
    const clean: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("BERTH_")) clean[k] = v;
    const argv = [...wrap, process.execPath, BIN, "agent", ...args];
    this.child = spawn(argv[0], argv.slice(1), { env: { ...clean, BERTH_LOG_LEVEL: "debug", ...env }, stdio: ["ignore", "ignore", "pipe"] });
    this.child.stderr!.on("data", (c: Buffer) => { this.stderr += c.toString(); });
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }
}
