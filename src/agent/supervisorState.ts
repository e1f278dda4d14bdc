/**
 * What the process driver and an instance's supervisor share, in the instance's directory:
 *   spec.json   what to run (written by the driver before it starts the supervisor)
 *   state.json  where the run stands (written by the supervisor; by the driver once it is gone)
 *   stop.json   the stop time-out of the stop under way (written by the driver before its SIGTERM)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface SupervisorSpec {
  /** Tells this run's state.json apart from a previous run's. */
  startId: string;
  /** "project/name", for messages. */
  instance: string;
  command: string;
  cwd: string;
  log: string;
  env: Record<string, string>;
  /** Seconds from SIGTERM to SIGKILL when no stop.json says otherwise. */
  stopTimeoutS: number;
  /** The agent's fence lease (fence.json): past its deadline this run is force-stopped. */
  fenceFile?: string;
}

export type SupervisedStatus = "Starting" | "Running" | "Stopping" | "Stopped" | "Error";

export interface SupervisorState {
  startId: string;
  supervisorPid: number;
  status: SupervisedStatus;
  /** The command's pid, which is also its process group. */
  pid?: number;
  reason?: string;
  startedAt?: number;
  endedAt?: number;
  /** The kernel's boot id when it started: after a reboot nothing of it runs, whatever the file says. */
  bootId?: string;
  /** Set when the supervisor force-stopped it at the fence deadline (docs/healing.md). */
  fenced?: boolean;
}

export const specPath = (dir: string) => join(dir, "spec.json");
export const statePath = (dir: string) => join(dir, "state.json");
export const stopPath = (dir: string) => join(dir, "stop.json");

/** This boot of the machine (Linux); undefined elsewhere. */
export function bootId(): string | undefined {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/** How a process ended, as the instance's reason shows it. */
export function exitReason(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exited with code ${code ?? "unknown"}`;
}

/**
 * The fence lease (docs/healing.md), written by the agent at <data>/fence.json on every
 * acknowledged heartbeat and read by every supervisor: past `deadline` (this boot's monotonic
 * clock, ms) the supervisor of an instance listed in `instances` force-stops it, whether or not
 * the agent still lives. `deadline: null` means healing is off: nothing is fenced.
 */
export interface FenceLease {
  bootId?: string;
  deadline: number | null;
  /** The threshold and margin (s) the deadline was computed from, for people and logs. */
  thresholdS: number;
  marginS: number;
  /** "project/name" of every instance healing would move. */
  instances: string[];
}

export const fencePath = (data: string) => join(data, "fence.json");

/** CLOCK_MONOTONIC in ms: the same clock in every process of this boot, and never set back. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1_000_000n);
}

/** Why an instance was fenced, as its log and the fence watcher's show it. */
export function fenceReason(lease: FenceLease): string {
  return `fenced: no acknowledged heartbeat for ${lease.thresholdS - lease.marginS} s (healing threshold ${lease.thresholdS} s, margin ${lease.marginS} s)`;
}

/** Whether the lease says this instance must be fenced now. A lease of another boot fences nothing. */
export function fenceDue(lease: FenceLease | undefined, instance: string, now: number, boot: string | undefined): boolean {
  if (!lease || lease.deadline === null || lease.bootId !== boot) return false;
  return now >= lease.deadline && lease.instances.includes(instance);
}
