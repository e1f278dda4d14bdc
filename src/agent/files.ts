/**
 * What the agent keeps under its data directory (docs/agents.md):
 *   credential                                 service URL, member name, agent credential (0600)
 *   agent.json                                 driver, hooks directory, storage pools of the first start
 *   instances/<project>/<name>/instance.json   each instance the agent runs or ran, as last desired
 *   instances/<project>/<name>/state.json      the driver's record of it (process: the supervisor's)
 *   logs/<project>/<name>.log                  the instance's output (process driver)
 * Names are path-safe: the service allows only letters, digits, ".", "_" and "-" (not "." or "..").
 *
 * The files are small and local, so they are read and written with synchronous calls: a heal or an
 * evacuation hands an agent hundreds of instances at once, and each call through the thread pool
 * costs several times the CPU of the same call made directly (bench heal).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { toError } from "../domain/errors.ts";
import { instanceKey, type DesiredInstance } from "./protocol.ts";

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Throws unless project and name are safe as one directory level each. */
export function checkInstanceName(i: { project: string; name: string }): void {
  for (const part of [i.project, i.name]) {
    if (!SAFE_NAME.test(part)) throw new Error(`Refusing instance ${JSON.stringify(instanceKey(i))}: ${JSON.stringify(part)} is not a valid name`);
  }
}

export const instanceDir = (data: string, i: { project: string; name: string }) => join(data, "instances", i.project, i.name);
export const logFile = (data: string, i: { project: string; name: string }) => join(data, "logs", i.project, `${i.name}.log`);

/** Writes JSON so that a reader (or a crash) sees the old file or the new one, never half of one. */
export async function writeJsonAtomic(path: string, value: unknown, mode = 0o644): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const text = `${JSON.stringify(value, null, 2)}\n`;
  try {
    writeFileSync(tmp, text, { mode });
  } catch (err) {
    // The directory is made when first needed, not looked for before every write.
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, text, { mode });
  }
  renameSync(tmp, path);
}

/** The parsed file, or undefined when it does not exist; a file that is not JSON is an error naming it. */
export async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw toError(err);
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${path} is not valid JSON: ${toError(err).message}`, { cause: err });
  }
}

/** The agent's records of the instances it runs or ran on this member (instance.json). */
export class InstanceRecords {
  constructor(private readonly data: string) {}

  /** Every recorded instance, by key; unreadable records are reported through onBad and skipped. */
  async load(onBad: (path: string, err: Error) => void): Promise<Map<string, DesiredInstance>> {
    const known = new Map<string, DesiredInstance>();
    const root = join(this.data, "instances");
    for (const project of listDir(root)) {
      for (const name of listDir(join(root, project))) {
        const path = join(root, project, name, "instance.json");
        try {
          const instance = await readJson<DesiredInstance>(path);
          if (instance && instance.project === project && instance.name === name) known.set(instanceKey(instance), instance);
        } catch (err) {
          onBad(path, toError(err));
        }
      }
    }
    return known;
  }

  async save(instance: DesiredInstance): Promise<void> {
    checkInstanceName(instance);
    await writeJsonAtomic(join(instanceDir(this.data, instance), "instance.json"), instance);
  }

  /** Drops the instance's directory (record and driver state); its log stays. */
  async remove(instance: { project: string; name: string }): Promise<void> {
    checkInstanceName(instance);
    rmSync(instanceDir(this.data, instance), { recursive: true, force: true });
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw toError(err);
  }
}
