/**
 * The process driver: an instance is its config's `exec.command`, run with `sh -c` by a supervisor
 * (supervisor.ts) that the driver starts detached and that outlives the agent. The supervisor's
 * state.json is the truth about a run; the driver reads it and checks that the supervisor lives.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { open, mkdir, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { agentScriptCommand, runsAs } from "../agentScript.ts";
import { instanceDir, logFile, readJson, writeJsonAtomic } from "../files.ts";
import { instanceKey, shutdownTimeoutS, type DesiredInstance } from "../protocol.ts";
import { sleep } from "../sleep.ts";
import { bootId, fencePath, specPath, statePath, stopPath, type SupervisorSpec, type SupervisorState } from "../supervisorState.ts";
import { baseEnv, instanceEnv, type Driver, type DriverContext, type Observation } from "./driver.ts";

/** The answer to a log request: the end of the log file. */
export const LOG_TAIL_BYTES = 64 * 1024;
/** How long a supervisor may take to start the command (Node's start-up on a busy machine included). */
const SUPERVISOR_START_MS = 30_000;
/** What a stop may take beyond the instance's time-out before the driver kills everything itself. */
const STOP_MARGIN_MS = 10_000;

/** A run as the driver finds it: its state file, and whether its supervisor is alive. */
interface Look {
  dir: string;
  state: SupervisorState | undefined;
  supervised: boolean;
}

export class ProcessDriver implements Driver {
  readonly name = "process";
  readonly observeIntervalMs = 500;
  private readonly boot = bootId();

  constructor(private readonly ctx: DriverContext, private readonly supervisor: string[] = agentScriptCommand("supervisor")) {}

  async start(instance: DesiredInstance): Promise<void> {
    const key = instanceKey(instance);
    const command = instance.config["exec.command"]?.trim();
    if (!command) {
      throw new Error(`instance ${key} has no exec.command: the process driver runs that command (set it with: berth instance config set ${instance.name} exec.command=...)`);
    }
    let look = await this.look(instance);
    if (look.supervised && look.state?.status === "Stopping") {
      await this.waitUnsupervised(look, shutdownTimeoutS(instance.config) * 1000 + STOP_MARGIN_MS);
      look = await this.look(instance);
    }
    if (look.supervised) return; // it runs: starting it again would make a second copy
    await this.killOrphans(look);

    const spec: SupervisorSpec = {
      startId: randomUUID(),
      instance: key,
      command,
      cwd: look.dir,
      log: logFile(this.ctx.data, instance),
      env: { ...baseEnv(), ...instanceEnv(this.ctx, instance) },
      stopTimeoutS: shutdownTimeoutS(instance.config),
      fenceFile: fencePath(this.ctx.data),
    };
    await mkdir(look.dir, { recursive: true });
    await mkdir(dirname(spec.log), { recursive: true });
    await rm(stopPath(look.dir), { force: true });
    await writeJsonAtomic(specPath(look.dir), spec);

    const [node, ...args] = this.supervisor;
    const child = spawn(node, [...args, specPath(look.dir)], { detached: true, stdio: "ignore", cwd: look.dir });
    let exited: string | undefined;
    child.once("error", (err) => { exited = `could not start its supervisor: ${err.message}`; });
    child.once("exit", (code, signal) => { exited = `its supervisor exited (${signal ?? `code ${code}`}) before the command ran`; });
    child.unref();

    const deadline = Date.now() + SUPERVISOR_START_MS;
    for (;;) {
      const state = await readJson<SupervisorState>(statePath(look.dir)).catch(() => undefined);
      if (state?.startId === spec.startId && state.status !== "Starting") {
        if (state.status === "Error") throw new Error(state.reason ?? "it failed to start");
        this.ctx.logger.info({ instance: key, pid: state.pid, supervisor: state.supervisorPid }, "started");
        return;
      }
      if (exited) throw new Error(exited);
      if (Date.now() > deadline) {
        if (child.pid) killQuietly(child.pid, "SIGKILL");
        throw new Error(`its supervisor did not start the command within ${SUPERVISOR_START_MS / 1000} s`);
      }
      await sleep(20);
    }
  }

  async stop(instance: DesiredInstance, timeoutS: number): Promise<void> {
    const look = await this.look(instance);
    if (look.supervised && look.state) {
      await writeJsonAtomic(stopPath(look.dir), { timeoutS });
      killQuietly(look.state.supervisorPid, "SIGTERM");
      if (!(await this.waitUnsupervised(look, timeoutS * 1000 + STOP_MARGIN_MS))) {
        this.ctx.logger.warn({ instance: instanceKey(instance), supervisor: look.state.supervisorPid }, "the supervisor did not stop in time: killing it and the command");
        if (look.state.pid) killQuietly(-look.state.pid, "SIGKILL");
        killQuietly(look.state.supervisorPid, "SIGKILL");
      }
    }
    const after = await this.look(instance);
    await this.killOrphans(after);
    if (after.state && after.state.status !== "Stopped") {
      await writeJsonAtomic(statePath(after.dir), { ...after.state, status: "Stopped", reason: undefined, endedAt: after.state.endedAt ?? Date.now() });
    }
  }

  async status(instance: DesiredInstance): Promise<Observation> {
    const { state, supervised } = await this.look(instance);
    if (!state || state.status === "Stopped") return { status: "Stopped" };
    const times = { startedAt: state.startedAt, endedAt: state.endedAt };
    if (state.status === "Error") return { status: "Error", reason: state.reason, ...times };
    if (supervised) return { status: "Running", pid: state.pid, ...times };
    // The file says it runs but its supervisor is gone: after a reboot nothing of it runs (Stopped,
    // so it starts again); otherwise the supervisor was killed, and the command with it or orphaned.
    if (state.bootId !== this.boot) return { status: "Stopped" };
    return { status: "Error", reason: `its supervisor (pid ${state.supervisorPid}) is gone`, startedAt: state.startedAt };
  }

  async log(instance: { project: string; name: string }): Promise<string> {
    let file;
    try {
      file = await open(logFile(this.ctx.data, instance), "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return "";
      throw err;
    }
    try {
      const { size } = await file.stat();
      const length = Math.min(size, LOG_TAIL_BYTES);
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await file.read(buffer, 0, length, size - length);
      return buffer.subarray(0, bytesRead).toString("utf8");
    } finally {
      await file.close();
    }
  }

  private async look(instance: DesiredInstance): Promise<Look> {
    const dir = instanceDir(this.ctx.data, instance);
    const state = await readJson<SupervisorState>(statePath(dir)).catch((err: Error) => {
      this.ctx.logger.warn({ err, instance: instanceKey(instance) }, "unreadable supervisor state: treating the instance as not running");
      return undefined;
    });
    const supervised = state !== undefined && state.bootId === this.boot && (await isSupervisor(state.supervisorPid, dir));
    return { dir, state, supervised };
  }

  /** Waits until the run's supervisor is gone; false if it still lives after ms. */
  private async waitUnsupervised(look: Look, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (look.state && (await isSupervisor(look.state.supervisorPid, look.dir))) {
      if (Date.now() > deadline) return false;
      await sleep(25);
    }
    return true;
  }

  /**
   * A command whose supervisor died before it recorded the end may still run in its group: kill the
   * group before anything else starts. (A supervisor that recorded Stopped or Error killed it itself.)
   */
  private async killOrphans(look: Look): Promise<void> {
    const { state } = look;
    if (look.supervised || !state || state.pid === undefined || state.status === "Stopped" || state.status === "Error") return;
    const pid = state.pid;
    if (state.bootId !== this.boot || !groupAlive(pid)) return;
    this.ctx.logger.warn({ dir: look.dir, pid }, "killing the process group its dead supervisor left behind");
    killQuietly(-pid, "SIGKILL");
    for (let i = 0; i < 200 && groupAlive(pid); i++) await sleep(10);
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: gone already.
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether pid is alive and is this instance's supervisor (not another process that got the pid later). */
function isSupervisor(pid: number, dir: string): Promise<boolean> {
  return runsAs(pid, (args) => args.includes(specPath(dir)));
}
