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
