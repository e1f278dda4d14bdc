/** Pure rules of evacuation (DESIGN §5): what happens to each instance, and why. */
import type { EvacuateMode } from "../domain/instanceConfig.ts";
import { EVACUATE_MODES } from "../domain/instanceConfig.ts";
import { isRemoteDriver, REMOTE_DRIVERS, type Instance, type StorageDriver } from "../domain/types.ts";

export type EvacuationAction = "migrate" | "live-migrate" | "stop" | "force-stop" | "heal" | "stay";

/** What an evacuation request may ask: an instance's own mode, or `heal` (its member is gone). */
export type EvacuationMode = EvacuateMode | "heal";

const LOCAL_DEVICE_TYPES = new Set(["gpu", "usb", "unix-char", "unix-block", "pci"]);

/**
 * The local dependencies that pin an instance to its member: devices of type gpu, usb,
 * unix-char, unix-block or pci; a disk with a host path (`source` without a pool); a non-root disk
 * or a custom volume (`source` with a pool) on a local pool. A disk on a remote pool (ceph,
 * cephfs, powerflex, pure, nfs), custom volumes included, is reachable from every member and
 * moves with the instance. Returns a readable reason for the first one found, or null.
 */
export function localDependency(instance: Instance, poolDriver: (pool: string) => StorageDriver | undefined): string | null {
  for (const [name, device] of Object.entries(instance.devices)) {
    if (LOCAL_DEVICE_TYPES.has(device.type)) return `device "${name}" is of type ${device.type}`;
    if (device.type !== "disk") continue;
    if (!device.pool) {
      if (device.source) return `disk "${name}" uses host path ${device.source}`;
      continue;
    }
    const driver = poolDriver(device.pool);
    if (driver && REMOTE_DRIVERS.has(driver)) continue;
    if (device.path !== "/" || device.source) return `disk "${name}" is on local pool "${device.pool}" (${driver ?? "unknown"})`;
  }
  return null;
}

/**
 * Whether a move may recreate the instance from its image on the target instead of carrying its
 * root filesystem: it is declared stateless (berth.stateless=true), or its root disk is on a remote
 * (shared) pool. A root disk that comes from a profile (not in the instance's devices) is local.
 * poolDriver may name drivers Berth does not know (an agent's report): those are local.
 */
export function recreatable(instance: Instance, poolDriver: (pool: string) => string | undefined): string | null {
  if (["true", "1"].includes(instance.config["berth.stateless"] ?? "")) return "declared stateless (berth.stateless=true)";
  const root = Object.values(instance.devices).find((d) => d.type === "disk" && d.path === "/");
  const driver = root?.pool ? poolDriver(root.pool) : undefined;
  if (isRemoteDriver(driver)) return `its root disk is on remote pool "${root!.pool}" (${driver})`;
  return null;
}

export interface ActionChoice {
  action: EvacuationAction;
  why: string;
}

/**
 * Mode `heal` (DESIGN §6): the member is dead and answers nothing, so nothing is stopped there;
 * only an instance that can start elsewhere without that host goes (action `heal`): its root disk
 * is on a remote pool, or it has no disk, or it is declared `berth.stateless=true`; it has no local
 * device; and its cluster.evacuate is not stop or force-stop. The others stay (action `stay`).
 */
export function chooseHealAction(instance: Instance, poolDriver: (pool: string) => StorageDriver | undefined): ActionChoice {
  const configured = instance.config["cluster.evacuate"];
  if (configured === "stop" || configured === "force-stop") {
    return { action: "stay", why: `mode heal: cluster.evacuate=${configured}, so it stays on the dead member` };
  }
  const stateless = ["true", "1"].includes(instance.config["berth.stateless"] ?? "");
  for (const [name, device] of Object.entries(instance.devices)) {
    if (LOCAL_DEVICE_TYPES.has(device.type)) return { action: "stay", why: `mode heal: device "${name}" is of type ${device.type}, which only that host has` };
    if (device.type !== "disk" || stateless) continue;
    if (device.source && !device.pool) return { action: "stay", why: `mode heal: disk "${name}" uses host path ${device.source}` };
    if (device.pool) {
      const driver = poolDriver(device.pool);
      if (!driver || !REMOTE_DRIVERS.has(driver)) {
        return { action: "stay", why: `mode heal: disk "${name}" is on pool "${device.pool}" (${driver ?? "unknown"}), which is not shared, and berth.stateless is not true` };
      }
    }
  }
  const why = stateless ? "declared stateless (berth.stateless=true)" : Object.values(instance.devices).some((d) => d.type === "disk") ? "its disks are on shared pools" : "it has no disk";
  return { action: "heal", why: `mode heal: ${why}, so it starts elsewhere` };
}

/** The instance's mode: the request's mode overrides its cluster.evacuate (default auto). */
export function chooseAction(
  instance: Instance,
  requestMode: EvacuationMode | undefined,
  poolDriver: (pool: string) => StorageDriver | undefined,
  canLiveMigrate: boolean,
): ActionChoice {
  if (requestMode === "heal") return chooseHealAction(instance, poolDriver);
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
