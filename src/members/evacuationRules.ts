/** Pure rules of evacuation (DESIGN §5): what happens to each instance, and why. */
import type { EvacuateMode } from "../domain/instanceConfig.ts";
import { EVACUATE_MODES } from "../domain/instanceConfig.ts";
import { REMOTE_DRIVERS, type Instance, type StorageDriver } from "../domain/types.ts";

export type EvacuationAction = "migrate" | "live-migrate" | "stop" | "force-stop";

const LOCAL_DEVICE_TYPES = new Set(["gpu", "usb", "unix-char", "unix-block", "pci"]);

/**
 * The local dependencies that pin an instance to its member: devices of type gpu, usb,
 * unix-char, unix-block or pci; a disk with a host `source`; a non-root disk on a local pool.
 * Returns a readable reason for the first one found, or null.
 */
export function localDependency(instance: Instance, poolDriver: (pool: string) => StorageDriver | undefined): string | null {
  for (const [name, device] of Object.entries(instance.devices)) {
    if (LOCAL_DEVICE_TYPES.has(device.type)) return `device "${name}" is of type ${device.type}`;
    if (device.type !== "disk") continue;
    if (device.source) return `disk "${name}" uses host path ${device.source}`;
    if (device.path !== "/" && device.pool) {
      const driver = poolDriver(device.pool);
      if (driver && !REMOTE_DRIVERS.has(driver)) return `disk "${name}" is on local pool "${device.pool}" (${driver})`;
    }
  }
  return null;
}

export interface ActionChoice {
  action: EvacuationAction;
  why: string;
}

/** The instance's mode: the request's mode overrides its cluster.evacuate (default auto). */
export function chooseAction(
  instance: Instance,
  requestMode: EvacuateMode | undefined,
  poolDriver: (pool: string) => StorageDriver | undefined,
  canLiveMigrate: boolean,
): ActionChoice {
  const configured = instance.config["cluster.evacuate"] as EvacuateMode | undefined;
  const mode: EvacuateMode = requestMode ?? (configured && EVACUATE_MODES.includes(configured) ? configured : "auto");
  const source = requestMode ? `requested mode ${mode}` : configured ? `cluster.evacuate=${mode}` : "default mode auto";
  switch (mode) {
    case "auto": {
      const dependency = localDependency(instance, poolDriver);
      return dependency
        ? { action: "stop", why: `${source}: ${dependency}, so it stays and is stopped` }
        : { action: "migrate", why: `${source}: no local dependencies` };
    }
    case "live-migrate":
      return canLiveMigrate
        ? { action: "live-migrate", why: source }
        : { action: "migrate", why: `${source}: the executor cannot live-migrate, falling back to migrate` };
    default:
      return { action: mode, why: source };
  }
}
