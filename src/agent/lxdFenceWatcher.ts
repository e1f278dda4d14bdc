/**
 * The lxd driver's fence watcher: `node lxdFenceWatcher.js <agent data> <lxd socket> <member>`.
 * Started detached by the agent (drivers/lxdFenceWatcherProcess.ts), in a session of its own, it
 * outlives the agent — a crash, `kill -9`, a hang — as the process driver's supervisors do: every
 * LOOK_MS it reads the fence lease the agent renews after each acknowledged heartbeat and, once
 * the deadline has passed, force-stops the containers healing would move (lxdFence.ts).
 *
 * It writes its pid to <data>/lxd-fence-watcher.pid, where a restarted agent finds and adopts it.
 * It ends on SIGTERM or SIGINT, when <data> is removed (the agent uninstalled), or when the pid
 * file names another watcher (replaced). A deliberate stop of the agent leaves it running on
 * purpose: the service cannot tell a stopped agent from a dead one, and heals either.
 *
 * Node built-ins and small modules of the agent only: it must start fast.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { LxdClient } from "./drivers/lxdClient.ts";
import { fenceWatcherPidPath, orderedPath, type Ordered } from "./drivers/lxdShared.ts";
import { writeJsonAtomic } from "./files.ts";
import { LxdFence } from "./lxdFence.ts";
import { sleep } from "./sleep.ts";
import { bootId, fencePath, monotonicMs, type FenceLease } from "./supervisorState.ts";

const LOOK_MS = 200;

const [data, socket, member] = process.argv.slice(2);
if (!data || !socket || !member) {
  process.stderr.write("usage: lxdFenceWatcher <agent data> <lxd socket> <member>\n");
  process.exit(2);
}

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} [pid ${process.pid}] ${line}\n`); // the agent points stderr at logs/lxd-fence-watcher.log
}

function readLease(): FenceLease | undefined {
  try {
    return JSON.parse(readFileSync(fencePath(data!), "utf8")) as FenceLease;
  } catch {
    return undefined; // no lease yet (never acknowledged), or being replaced: the next look sees it
  }
}

/** The pid the pid file names (0: none); a missing file is written again with ours. */
function pidOnFile(): number {
  const file = fenceWatcherPidPath(data!);
  try {
    return Number(readFileSync(file, "utf8").trim()) || 0;
  } catch {
    if (existsSync(data!)) writeFileSync(file, `${process.pid}\n`);
    return process.pid;
  }
}

const fence = new LxdFence({
  member,
  lxd: new LxdClient(socket),
  lease: readLease,
  now: monotonicMs,
  boot: bootId(),
  log,
  recordFence: async (instance, reason) => {
    const file = orderedPath(data, instance);
    await mkdir(dirname(file), { recursive: true });
    const record: Ordered = { ordered: "Stopped", fenced: reason };
    await writeJsonAtomic(file, record);
  },
});

// A session of its own has no terminal; SIGHUP could only come from a stray kill.
process.on("SIGHUP", () => {});
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    log(`stopped (${signal})`);
    process.exit(0);
  });
}

writeFileSync(fenceWatcherPidPath(data), `${process.pid}\n`);
log(`watching ${fencePath(data)} for member "${member}" (LXD at ${socket})`);
let lastError = "";
for (;;) {
  if (!existsSync(data)) {
    log(`${data} is gone: nothing left to fence`);
    process.exit(0);
  }
  const onFile = pidOnFile();
  if (onFile !== process.pid) {
    log(`replaced by the watcher with pid ${onFile}`);
    process.exit(0);
  }
  try {
    await fence.look();
    lastError = "";
  } catch (err) {
    const message = (err as Error).message;
    if (message !== lastError) log(`cannot look at LXD's containers (tried again every second): ${message}`);
    lastError = message;
  }
  await sleep(LOOK_MS);
}
