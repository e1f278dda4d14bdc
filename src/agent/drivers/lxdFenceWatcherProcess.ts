/**
 * Starts the lxd driver's fence watcher (../lxdFenceWatcher.ts), or adopts the one that runs: one
 * per agent data directory, found through its pid file and checked to be that watcher still (a pid
 * can be reused), so a restarted agent never starts a second.
 */
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { runsAs } from "../agentScript.ts";
import { sleep } from "../sleep.ts";
import { fenceWatcherLogPath, fenceWatcherPidPath } from "./lxdShared.ts";

/** How long the watcher may take to start (Node's start-up on a busy machine included). */
const WATCHER_START_MS = 30_000;

/** The pid of the fence watcher of this data directory, or null when none runs. */
export async function runningFenceWatcher(data: string): Promise<number | null> {
  const pid = Number((await readFile(fenceWatcherPidPath(data), "utf8").catch(() => "")).trim());
  if (!pid) return null;
  const isWatcher = (args: string[]) => args.includes(data) && args.some((a) => /lxdFenceWatcher\.[jt]s$/.test(a));
  return (await runsAs(pid, isWatcher)) ? pid : null;
}

/**
 * Makes sure the watcher runs: adopts the running one, or starts one detached (its own session,
 * stderr to <data>/logs/lxd-fence-watcher.log) and waits until it has written its pid file.
 */
export async function ensureFenceWatcher(command: string[], data: string, socket: string, member: string): Promise<{ pid: number; started: boolean }> {
  const running = await runningFenceWatcher(data);
  if (running !== null) return { pid: running, started: false };
  const logPath = fenceWatcherLogPath(data);
  mkdirSync(dirname(logPath), { recursive: true });
  const out = openSync(logPath, "a");
  const [node, ...args] = command;
  let exited: string | undefined;
  let child;
  try {
    child = spawn(node!, [...args, data, socket, member], { detached: true, stdio: ["ignore", out, out], cwd: data });
  } finally {
    closeSync(out);
  }
  child.once("error", (err) => { exited = `could not start: ${err.message}`; });
  child.once("exit", (code, signal) => { exited = `exited (${signal ?? `code ${code}`})`; });
  child.unref();
  const deadline = Date.now() + WATCHER_START_MS;
  while ((await runningFenceWatcher(data)) !== child.pid) {
    if (exited) throw new Error(`The lxd fence watcher ${exited} as it started: ${lastLines(logPath)}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`The lxd fence watcher did not start within ${WATCHER_START_MS / 1000} s`);
    }
    await sleep(20);
  }
  return { pid: child.pid!, started: true };
}

function lastLines(file: string): string {
  try {
    return readFileSync(file, "utf8").trim().split("\n").slice(-5).join(" | ");
  } catch {
    return "(no log)";
  }
}
