/** Parsing command-line values: KEY=VALUE lists, sizes, counts, device specs, comma lists. */
import type { Command } from "commander";
import { parseSize } from "../domain/units.ts";
import { CliError } from "./client.ts";

/** Commander collector for repeatable options (`-c a=1 -c b=2`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Splits "KEY=VALUE" at the first "=" (values may contain "="). */
export function splitAssignment(text: string, what = "KEY=VALUE"): [string, string] {
  const at = text.indexOf("=");
  if (at <= 0) throw new CliError(`Expected ${what}, got "${text}"`);
  return [text.slice(0, at), text.slice(at + 1)];
}

export function parseAssignments(list: string[] | undefined, what = "KEY=VALUE"): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const [key, value] = splitAssignment(item, what);
    out[key] = value;
  }
  return out;
}

/** "16GiB" → bytes, or a CliError naming the flag. */
export function parseSizeOption(text: string, flag: string): number {
  const bytes = parseSize(text);
  if (bytes === null) throw new CliError(`${flag} must be a size such as 512MiB, 2GiB or 100GB, got "${text}"`);
  return bytes;
}

/** A non-negative number (`--cpu 4`, `--gpus 1`), whole when asked. */
export function parseCount(text: string, flag: string, whole = false): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < 0 || (whole && !Number.isInteger(n))) {
    throw new CliError(`${flag} must be a ${whole ? "whole " : ""}number of at least 0, got "${text}"`);
  }
  return n;
}

/** "g1,g2" → ["g1", "g2"], dropping blanks. */
export function splitList(text: string): string[] {
  return text.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** "root,type=disk,pool=default,path=/,size=10GiB" → ["root", {type: "disk", ...}]. */
export function parseDevice(spec: string): [string, Record<string, string>] {
  const [name, ...pairs] = spec.split(",");
  if (!name || name.includes("=")) {
    throw new CliError(`--device must be NAME,key=value,... (e.g. root,type=disk,pool=default,path=/,size=10GiB), got "${spec}"`);
  }
  const device = parseAssignments(pairs, `key=value in --device ${name}`);
  if (!device.type) throw new CliError(`--device ${name} needs a type (e.g. ${name},type=disk,...)`);
  return [name, device];
}

/** The flags that say what an instance asks of a member (`instance create`, `placement query`). */
export interface InstanceResourceOptions {
  config?: string[];
  device?: string[];
  cpu?: string;
  memory?: string;
  disk?: string;
  pool?: string;
  gpus?: string;
}

/**
 * -c and --device, then --cpu, --memory and --gpus as limits.cpu, limits.memory and limits.gpu,
 * and --disk/--pool as the root disk: the config and devices the scheduler reads its request from.
 */
export function instanceResources(opts: InstanceResourceOptions): { config: Record<string, string>; devices: Record<string, Record<string, string>> } {
  const config = parseAssignments(opts.config, "-c key=value");
  if (opts.cpu !== undefined) config["limits.cpu"] = String(parseCount(opts.cpu, "--cpu"));
  if (opts.memory !== undefined) {
    parseSizeOption(opts.memory, "--memory");
    config["limits.memory"] = opts.memory;
  }
  if (opts.gpus !== undefined) config["limits.gpu"] = String(parseCount(opts.gpus, "--gpus", true));
  const devices: Record<string, Record<string, string>> = {};
  for (const spec of opts.device ?? []) {
    const [deviceName, device] = parseDevice(spec);
    devices[deviceName] = device;
  }
  if (opts.disk !== undefined || opts.pool !== undefined) {
    if (!opts.pool) throw new CliError("--disk needs --pool, the storage pool of the root disk (e.g. --disk 10GiB --pool default)");
    const root: Record<string, string> = { type: "disk", path: "/", pool: opts.pool };
    if (opts.disk !== undefined) {
      parseSizeOption(opts.disk, "--disk");
      root.size = opts.disk;
    }
    devices.root = root;
  }
  return { config, devices };
}

/** --type: container or virtual-machine. */
export function checkInstanceType(type: string | undefined): void {
  if (type && type !== "container" && type !== "virtual-machine") {
    throw new CliError(`--type must be container or virtual-machine, got "${type}"`);
  }
}

/** The options that become config and devices (see instanceResources): on `instance create`, `placement query`, `scriptlet test`. */
export function addResourceOptions(command: Command): Command {
  return command
    .option("-c, --config <key=value>", "instance config key (repeatable)", collect)
    .option("--device <spec>", "device as name,type=disk,pool=x,path=/,size=10GiB (repeatable)", collect)
    .option("--cpu <n>", "CPU cores (limits.cpu)")
    .option("--memory <size>", "memory, e.g. 2GiB (limits.memory)")
    .option("--disk <size>", "root disk size, e.g. 10GiB (with --pool)")
    .option("--pool <pool>", "storage pool of the root disk")
    .option("--gpus <n>", "GPU count (limits.gpu)");
}
