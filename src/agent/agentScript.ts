/**
 * How the agent starts its detached helpers (the process driver's supervisor, the lxd driver's
 * fence watcher): compiled, dist/agent/NAME.js under plain node. From source (vitest) it is
 * NAME.ts, which node runs only through tsx's loader.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

export function agentScriptCommand(script: "supervisor" | "lxdFenceWatcher"): string[] {
  const here = import.meta.url;
  if (!here.endsWith(".ts")) return [process.execPath, fileURLToPath(new URL(`./${script}.js`, here))];
  const tsx = pathToFileURL(createRequire(here).resolve("tsx")).href;
  return [process.execPath, "--import", tsx, fileURLToPath(new URL(`./${script}.ts`, here))];
}

/**
 * Whether pid is alive and its command line (its arguments) passes `is`: not another process that
 * got the pid later, nor a zombie (whose command line is empty). Without /proc (macOS) the pid
 * check is all there is.
 */
export async function runsAs(pid: number, is: (args: string[]) => boolean): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  let cmdline: string;
  try {
    cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return process.platform !== "linux";
  }
  return is(cmdline.split("\0"));
}
