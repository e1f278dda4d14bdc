/** Instance configuration keys Berth understands, their validation, and resource requests. */
import { badRequest } from "./errors.ts";
import { formatSize, MAX_SIZE_BYTES, parseSize } from "./units.ts";
import type { Devices, Instance } from "./types.ts";

export type EvacuateMode = "auto" | "migrate" | "live-migrate" | "stop" | "force-stop";
export const EVACUATE_MODES: readonly EvacuateMode[] = ["auto", "migrate", "live-migrate", "stop", "force-stop"];

/** Keys only Berth writes; users may read them but an instance create/update may not set them unless they already hold that value. */
export const VOLATILE_KEYS = ["volatile.evacuate.origin", "volatile.last_state.power", "volatile.cluster.group"] as const;

/** The group an instance was placed through (`?target=@group`): every move Berth chooses stays in it. */
export const CLUSTER_GROUP_KEY = "volatile.cluster.group";

type Check = (value: string) => string | null; // returns an error message or null

/** Upper bounds of numeric keys: finite, and far above any real machine, so sums stay finite too. */
export const MAX_CPU_CORES = 65_536;
export const MAX_GPUS = 1024;
export const MAX_TIMEOUT_S = 86_400;

const cores: Check = (v) =>
  /^\d{1,12}(\.\d{1,6})?$/.test(v) && Number(v) > 0 && Number(v) <= MAX_CPU_CORES
    ? null : `must be a positive number of cores up to ${MAX_CPU_CORES}, e.g. 2`;
const size: Check = (v) => (parseSize(v) !== null ? null : `must be a size such as 512MiB or 2GiB, at most ${formatSize(MAX_SIZE_BYTES)}`);
const bool: Check = (v) => (["true", "false", "1", "0"].includes(v) ? null : "must be true or false");
const seconds: Check = (v) => (/^\d{1,12}$/.test(v) && Number(v) <= MAX_TIMEOUT_S ? null : `must be a whole number of seconds up to ${MAX_TIMEOUT_S}`);
const gpus: Check = (v) => (/^\d{1,12}$/.test(v) && Number(v) <= MAX_GPUS ? null : `must be a whole number up to ${MAX_GPUS}, e.g. 1`);
const oneOf = (values: readonly string[]): Check => (v) =>
  values.includes(v) ? null : `must be one of ${values.join(", ")}`;
const anyString: Check = () => null;

export const INSTANCE_CONFIG_KEYS: Record<string, Check> = {
  "limits.cpu": cores,
  "limits.memory": size,
  "limits.gpu": gpus,
  "cluster.evacuate": oneOf(EVACUATE_MODES),
  "boot.host_shutdown_timeout": seconds,
  "boot.autostart": bool,
  /** A berth agent restarts the instance (with backoff) when it dies unexpectedly. */
  "boot.autorestart": bool,
  /** Its disk may be lost: healing may start it fresh on another member when its own dies. */
  "berth.stateless": bool,
  "exec.command": anyString,
  "volatile.evacuate.origin": anyString,
  "volatile.last_state.power": oneOf(["RUNNING", "STOPPED"]),
  "volatile.cluster.group": anyString,
};

/** Validates an instance config map; throws a 400 naming the key and value. */
export function validateInstanceConfig(config: Record<string, string>, field = "config"): void {
  for (const [key, value] of Object.entries(config)) {
    if (typeof value !== "string") {
      throw badRequest(`${field}["${key}"] must be a string, got ${JSON.stringify(value)}`);
    }
    if (key.startsWith("user.")) continue;
    const check = INSTANCE_CONFIG_KEYS[key];
    if (!check) {
      throw badRequest(`Unknown instance configuration key ${field}["${key}"] (use a "user." prefix for your own keys)`);
    }
    const problem = check(value);
    if (problem) throw badRequest(`${field}["${key}"] ${problem}, got ${JSON.stringify(value)}`);
  }
}

const DEVICE_TYPES = ["disk", "nic", "gpu", "usb", "unix-char", "unix-block", "pci", "proxy", "infiniband", "tpm"];

/** Validates devices: every device has a known type; disk sizes parse. */
export function validateDevices(devices: Devices): void {
  for (const [name, device] of Object.entries(devices)) {
    const type = device.type;
    if (!type) throw badRequest(`devices["${name}"].type is required (one of ${DEVICE_TYPES.join(", ")})`);
    if (!DEVICE_TYPES.includes(type)) {
      throw badRequest(`devices["${name}"].type must be one of ${DEVICE_TYPES.join(", ")}, got ${JSON.stringify(type)}`);
    }
    for (const [k, v] of Object.entries(device)) {
      if (typeof v !== "string") throw badRequest(`devices["${name}"]["${k}"] must be a string, got ${JSON.stringify(v)}`);
    }
    if (type === "disk" && device.size !== undefined && parseSize(device.size) === null) {
      throw badRequest(`devices["${name}"].size must be a size such as 10GiB, got ${JSON.stringify(device.size)}`);
    }
    if (type === "disk" && device.path === "/" && !device.pool) {
      throw badRequest(`devices["${name}"] is the root disk and needs a pool`);
    }
  }
}

/** What an instance asks of a member: the scheduler's unit of account. */
export interface ResourceRequest {
  cpu: number; // cores
  memory: number; // bytes
  disk: number; // bytes of root disk
  gpu: number; // cards
}

/** The root disk device of an instance (path "/"), if any. */
export function rootDisk(devices: Devices): Record<string, string> | undefined {
  for (const device of Object.values(devices)) {
    if (device.type === "disk" && device.path === "/") return device;
  }
  return undefined;
}

/** The config keys resourceRequest reads (with the devices): all a request depends on. */
export const RESOURCE_CONFIG_KEYS = ["limits.cpu", "limits.memory", "limits.gpu"] as const;

/** A number within [0, max]; anything else (NaN, Infinity, a value stored before the bounds) is clamped. */
const bounded = (n: number, max: number): number => (n >= 0 ? Math.min(n, max) : 0);

/**
 * Reads cpu, memory, root disk size and gpu count from config and devices. Always finite and
 * bounded, whatever is stored: the scheduler's accounting adds these up.
 */
export function resourceRequest(instance: Pick<Instance, "config" | "devices">): ResourceRequest {
  const cpu = instance.config["limits.cpu"] ? bounded(Number(instance.config["limits.cpu"]), MAX_CPU_CORES) : 0;
  const memory = instance.config["limits.memory"] ? parseSize(instance.config["limits.memory"]) ?? MAX_SIZE_BYTES : 0;
  const root = rootDisk(instance.devices);
  const disk = root?.size ? parseSize(root.size) ?? MAX_SIZE_BYTES : 0;
  let gpu = 0;
  for (const device of Object.values(instance.devices)) if (device.type === "gpu") gpu++;
  if (instance.config["limits.gpu"]) gpu = Math.max(gpu, bounded(Number(instance.config["limits.gpu"]), MAX_GPUS));
  return { cpu, memory, disk, gpu };
}
