/**
 * The supervisor of one instance of the process driver: `node supervisor.js <instance dir>/spec.json`.
 * Started detached by the agent, in a session of its own, it outlives the agent: a restarted agent
 * finds it through state.json and adopts the instance instead of starting a second copy.
 *
 * It runs the command with `sh -c` in a process group of its own (so a stop reaches every process
 * the command started), appends the command's output to the instance's log, and records each
 * change in state.json. SIGTERM asks for a stop: SIGTERM to the command's group, SIGKILL after the
 * time-out. When the command ends the supervisor records how (Stopped when asked to stop, else
 * Error with the exit code or signal), kills what is left of the group, and exits.
 *
 * The fence deadline (docs/healing.md): every FENCE_CHECK_MS it reads the agent's fence lease, and
 * once the deadline has passed for an instance healing would move, it SIGKILLs the group at once
 * (no clean stop: the deadline matters more than the instance's shutdown) and records Stopped with
 * `fenced`. It does this itself, so the deadline holds when the agent has crashed or hangs.
 *
 * Node built-ins only: it runs compiled (dist/agent/supervisor.js) and must start fast.
 */
import { spawn } from "node:child_process";
import { appendFileSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { bootId, exitReason, fenceDue, fenceReason, monotonicMs, statePath, stopPath, type FenceLease, type SupervisorSpec, type SupervisorState } from "./supervisorState.ts";

const specFile = process.argv[2];
if (!specFile) {
  process.stderr.write("usage: supervisor <instance dir>/spec.json\n");
  process.exit(2);
}
const dir = dirname(specFile);
const spec = JSON.parse(readFileSync(specFile, "utf8")) as SupervisorSpec;
let state: SupervisorState = { startId: spec.startId, supervisorPid: process.pid, status: "Starting", bootId: bootId() };
let stopping = false;
const FENCE_CHECK_MS = 200;

function record(next: Partial<SupervisorState>): void {
  state = { ...state, ...next };
  const tmp = `${statePath(dir)}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, statePath(dir));
}

function note(line: string): void {
  try {
    appendFileSync(spec.log, `[berth] ${new Date().toISOString()} ${line}\n`);
  } catch {
    // The log is for people; the state file is what counts.
  }
}

function killGroup(signal: NodeJS.Signals): void {
  if (state.pid === undefined) return;
  try {
    process.kill(-state.pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

/** The stop's time-out: stop.json's (the agent writes the instance's current one), else the spec's. */
function stopTimeoutS(): number {
  try {
    const { timeoutS } = JSON.parse(readFileSync(stopPath(dir), "utf8")) as { timeoutS?: unknown };
    if (typeof timeoutS === "number" && timeoutS >= 0) return timeoutS;
  } catch {
    // No stop.json: a SIGTERM from someone else (shutdown); use the time-out the run started with.
  }
  return spec.stopTimeoutS;
}

function stop(): void {
  if (stopping) return;
  stopping = true;
  if (state.pid === undefined) return; // not spawned yet: the spawn handler stops it
  record({ status: "Stopping" });
  const timeoutS = stopTimeoutS();
  note(`stopping (SIGTERM, SIGKILL after ${timeoutS} s)`);
  killGroup("SIGTERM");
  setTimeout(() => {
    note(`still running after ${timeoutS} s: SIGKILL`);
    killGroup("SIGKILL");
  }, timeoutS * 1000);
}

function readLease(): FenceLease | undefined {
  if (!spec.fenceFile) return undefined;
  try {
    return JSON.parse(readFileSync(spec.fenceFile, "utf8")) as FenceLease;
  } catch {
    return undefined; // no lease yet (never acknowledged), or being replaced: the next look sees it
  }
}

function fence(lease: FenceLease): void {
  if (state.fenced) return;
  const reason = fenceReason(lease);
  stopping = true;
  record({ status: "Stopping", fenced: true, reason });
  note(`${reason}: SIGKILL`);
  killGroup("SIGKILL");
}

if (spec.fenceFile) {
  setInterval(() => {
    const lease = readLease();
    if (state.pid !== undefined && fenceDue(lease, spec.instance, monotonicMs(), state.bootId)) fence(lease!);
  }, FENCE_CHECK_MS).unref();
}

// A session of its own has no terminal; these could only come from a stray kill. Only SIGTERM stops.
process.on("SIGINT", () => {});
process.on("SIGHUP", () => {});
process.on("SIGTERM", stop);

mkdirSync(dirname(spec.log), { recursive: true });
const out = openSync(spec.log, "a");
note(`starting: ${spec.command}`);
const child = spawn("/bin/sh", ["-c", spec.command], { detached: true, stdio: ["ignore", out, out], cwd: spec.cwd, env: spec.env });
child.once("spawn", () => {
  record({ status: "Running", pid: child.pid, startedAt: Date.now() });
  if (stopping) {
    stopping = false;
    stop();
  }
});
child.once("error", (err) => {
  record({ status: "Error", reason: `could not start /bin/sh: ${err.message}`, endedAt: Date.now() });
  process.exit(1);
});
child.once("exit", (code, signal) => {
  killGroup("SIGKILL"); // whatever the command left behind in its group
  const how = exitReason(code, signal);
  note(stopping ? `stopped (${how})` : how);
  record(stopping ? { status: "Stopped", endedAt: Date.now() } : { status: "Error", reason: how, endedAt: Date.now() });
  process.exit(0);
});
