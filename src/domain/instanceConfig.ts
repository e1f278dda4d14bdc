/** Instance configuration keys Berth understands, their validation, and resource requests. */
import { badRequest } from "./errors.ts";
import { parseSize } from "./units.ts";
import type { Devices, Instance } from "./types.ts";

export type EvacuateMode = "auto" | "migrate" | "live-migrate" | "stop" | "force-stop";
export const EVACUATE_MODES: readonly EvacuateMode[] = ["auto", "migrate", "live-migrate", "stop", "force-stop"];

/** Keys only Berth writes; users may read them but an instance create/update may not set them unless they already hold that value. */
export const VOLATILE_KEYS = ["volatile.evacuate.origin", "volatile.last_state.power", "volatile.cluster.group"] as const;

type Check = (value: string) => string | null; // returns an error message or null

const positiveNumber: Check = (v) =>
  /^\d+(\.\d+)?$/.test(v) && Number(v) > 0 ? null : "must be a positive number of cores, e.g. 2";
const size: Check = (v) => (parseSize(v) !== null ? null : "must be a size such as 512MiB or 2GiB");
const bool: Check = (v) => (["true", "false", "1", "0"].includes(v) ? null : "must be true or false");
const seconds: Check = (v) => (/^\d+$/.test(v) ? null : "must be a whole number of seconds");
const wholeNumber: Check = (v) => (/^\d+$/.test(v) ? null : "must be a whole number, e.g. 1");
const oneOf = (values: readonly string[]): Check => (v) =>
  values.includes(v) ? null : `must be one of ${values.join(", ")}`;
const anyString: Check = () => null;

export const INSTANCE_CONFIG_KEYS: Record<string, Check> = {
  "limits.cpu": positiveNumber,
  "limits.memory": size,
  "limits.gpu": wholeNumber,
  "cluster.evacuate": oneOf(EVACUATE_MODES),
  "boot.host_shutdown_timeout": seconds,
  "boot.autostart": bool,
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

/** Reads cpu, memory, root disk size and gpu count from config and devices. */
export function resourceRequest(instance: Pick<Instance, "config" | "devices">): ResourceRequest {
  const cpu = instance.config["limits.cpu"] ? Number(instance.config["limits.cpu"]) : 0;
  const memory = instance.config["limits.memory"] ? parseSize(instance.config["limits.memory"]) ?? 0 : 0;
  const root = rootDisk(instance.devices);
  const disk = root?.size ? parseSize(root.size) ?? 0 : 0;
  let gpu = 0;
  for (const device of Object.values(instance.devices)) if (device.type === "gpu") gpu++;
  if (instance.config["limits.gpu"]) gpu = Math.max(gpu, Number(instance.config["limits.gpu"]));
  return { cpu, memory, disk, gpu };
}
