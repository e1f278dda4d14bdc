/**
 * The hook driver: the operator's executables `start`, `stop` and `status` in the hooks directory
 * run the instance. Each gets the instance as JSON on stdin and BERTH_INSTANCE, BERTH_PROJECT,
 * BERTH_MEMBER in its environment (`stop` also BERTH_STOP_TIMEOUT, seconds); a non-zero exit is a
 * failure whose message is the hook's stderr. `status` prints `Running` or `Stopped`. Hooks must be
 * idempotent, as every driver action is: the agent may start a running instance after a restart.
 */
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { toError } from "../../domain/errors.ts";
import { instanceKey, type DesiredInstance } from "../protocol.ts";
import { baseEnv, instanceEnv, type Driver, type DriverContext, type Observation } from "./driver.ts";

export const HOOKS = ["start", "stop", "status"] as const;
type Hook = (typeof HOOKS)[number];

/** What a hook may take before it is killed and counts as failed. */
const HOOK_TIMEOUT_MS: Record<Hook, number> = { start: 300_000, stop: 30_000, status: 30_000 };
/** Output kept of a hook (the rest is dropped): status is one word, messages are short. */
const MAX_OUTPUT = 64 * 1024;

/** Throws an error naming every missing or non-executable hook in dir. */
export async function checkHooksDir(dir: string): Promise<void> {
  const problems: string[] = [];
  for (const hook of HOOKS) {
    try {
      await access(join(dir, hook), constants.X_OK);
    } catch (err) {
      problems.push(`${join(dir, hook)} (${(err as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : "not executable"})`);
    }
  }
  if (problems.length > 0) {
    throw new Error(`The hook driver needs executables start, stop and status in --hooks ${dir}: ${problems.join(", ")}`);
  }
}

export class HookDriver implements Driver {
  readonly name = "hook";
  /** Every look runs the status hook of every instance: not too often. */
  readonly observeIntervalMs = 2_000;

  constructor(private readonly ctx: DriverContext, private readonly hooksDir: string) {}

  async start(instance: DesiredInstance): Promise<void> {
    await this.run("start", instance);
  }

  async stop(instance: DesiredInstance, timeoutS: number): Promise<void> {
    await this.run("stop", instance, { BERTH_STOP_TIMEOUT: String(timeoutS) }, HOOK_TIMEOUT_MS.stop + timeoutS * 1000);
  }

  async status(instance: DesiredInstance): Promise<Observation> {
    let out: string;
    try {
      out = (await this.run("status", instance)).trim();
    } catch (err) {
      return { status: "Error", reason: toError(err).message };
    }
    if (out === "Running" || out === "Stopped") return { status: out };
    return { status: "Error", reason: `the status hook printed ${JSON.stringify(out.slice(0, 200))}, not Running or Stopped` };
  }

  async log(): Promise<string> {
    return "";
  }

  /** Runs one hook; resolves with its stdout, rejects with its stderr when it fails. */
  private run(hook: Hook, instance: DesiredInstance, env: Record<string, string> = {}, timeoutMs = HOOK_TIMEOUT_MS[hook]): Promise<string> {
    const path = join(this.hooksDir, hook);
    const what = `the ${hook} hook (${path}) for ${instanceKey(instance)}`;
    return new Promise((resolve, reject) => {
      const child = spawn(path, [], { stdio: ["pipe", "pipe", "pipe"], env: { ...baseEnv(), ...instanceEnv(this.ctx, instance), ...env } });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => { if (stdout.length < MAX_OUTPUT) stdout += c.toString(); });
      child.stderr.on("data", (c: Buffer) => { if (stderr.length < MAX_OUTPUT) stderr += c.toString(); });
      child.stdin.on("error", () => {}); // a hook that does not read its stdin is fine
      child.stdin.end(JSON.stringify(instance));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, timeoutMs);
      child.once("error", (err) => {
        clearTimeout(timer);
        reject(new Error(`${what} could not run: ${err.message}`, { cause: err }));
      });
      child.once("close", (code, signal) => {
        clearTimeout(timer);
        if (timedOut) return reject(new Error(`${what} did not finish within ${Math.round(timeoutMs / 1000)} s`));
        if (code === 0) return resolve(stdout);
        const message = stderr.trim() || `no message on stderr`;
        reject(new Error(`${hook} hook failed (${signal ? `killed by ${signal}` : `exit ${code}`}): ${message}`));
      });
    });
  }
}
