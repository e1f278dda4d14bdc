/**
 * The dry runs behind POST /1.0/scheduler/placement and /1.0/scheduler/scriptlet/test: the same
 * decision a real placement would make, with a report of what the scriptlet did.
 */
import type { Instance, PlacementReason } from "../domain/types.ts";
import { ScriptletError, type ScriptletOutcome } from "../sandbox/index.ts";
import type { QueryOutcome } from "../scheduler/index.ts";
import type { SchedulerPlacement } from "./schedulerPlacement.ts";
import type { Scriptlets } from "./scriptlets.ts";

export interface ScriptletReport {
  called: boolean;
  target: string | null;
  rejected: string | null;
  logs: { level: string; message: string }[];
  duration_ms: number;
  error: string | null;
}

export type PlacementQueryFn = (
  instance: Instance, reason: PlacementReason, target: string | undefined, exclude: string[], source?: string,
) => Promise<{ outcome: QueryOutcome; scriptlet: ScriptletReport }>;

const NOT_CALLED: ScriptletReport = { called: false, target: null, rejected: null, logs: [], duration_ms: 0, error: null };

export function placementQuery(placement: SchedulerPlacement, scriptlets: Scriptlets): PlacementQueryFn {
  return async (instance, reason, target, exclude, source) => {
    let report: ScriptletReport = NOT_CALLED;
    const sink = (outcome: ScriptletOutcome) => {
      report = { ...outcome };
    };
    const hook = source !== undefined ? scriptlets.testHook(source, instance, sink) : scriptlets.hookFor(instance, sink);
    const outcome = await placement.query(instance, reason, target, exclude, hook);
    // An invalid source given to the test endpoint is the caller's error (400 with line:column).
    if (!outcome.ok && outcome.code === "hook-failed" && outcome.cause instanceof ScriptletError) throw outcome.cause;
    return { outcome, scriptlet: report };
  };
}
