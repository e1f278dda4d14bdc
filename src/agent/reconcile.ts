/**
 * Reconciliation, pure: what the service wants on this member and what the driver observes there
 * in, the actions that close the gap out. Level-triggered — the same inputs give the same actions
 * however many updates were missed — and the agent loop (agent.ts) runs it after every change.
 */
import { autorestart, instanceKey, shutdownTimeoutS, type DesiredInstance, type ObservedStatus } from "./protocol.ts";

export type Action =
  /** Start it (or restart it after a failure). */
  | { kind: "start"; key: string; instance: DesiredInstance }
  /** Stop it cleanly within timeoutS seconds, then kill; also clears an Error. */
  | { kind: "stop"; key: string; instance: DesiredInstance; timeoutS: number }
  /** It is no longer listed (moved away, deleted): stop it and drop what the agent keeps of it. */
  | { kind: "forget"; key: string; instance: DesiredInstance; timeoutS: number };

/**
 * After a failure: when the same kind of action may be tried again, and how many failures in a row
 * led there. A crash counts as a failed start.
 */
export interface Backoff {
  kind: Action["kind"];
  attempt: number;
  notBefore: number; // epoch ms
}

export interface ReconcileInput {
  /** The instances the service lists for this member. */
  desired: readonly DesiredInstance[];
  /** What the agent knows from before (its records on disk), by key: what it must forget if unlisted. */
  known: ReadonlyMap<string, DesiredInstance>;
  /** The driver's observation, by key; an instance missing here is not running. */
  observed: ReadonlyMap<string, { status: ObservedStatus }>;
  /** Back-off after failures, by key (none: act at once). */
  backoff: ReadonlyMap<string, Backoff>;
  /** Instances with an action under way: left alone until it ends. */
  busy: ReadonlySet<string>;
  now: number;
  /**
   * The fence lease ran out and the desired state has not been read since (fenceLease.ts): nothing
   * that healing would move (`fence`) is started, since it may run elsewhere by now.
   */
  holdFenced?: boolean;
}

export interface ReconcileResult {
  actions: Action[];
  /** When to reconcile again even if nothing changes (a back-off ends); null: no need. */
  wakeAt: number | null;
}

export function reconcile(input: ReconcileInput): ReconcileResult {
  const actions: Action[] = [];
  let wakeAt: number | null = null;
  /** Adds the action unless the same kind failed lately and its back-off has not ended. */
  const act = (action: Action) => {
    const backoff = input.backoff.get(action.key);
    if (backoff && backoff.kind === action.kind && backoff.notBefore > input.now) {
      wakeAt = Math.min(wakeAt ?? backoff.notBefore, backoff.notBefore);
    } else {
      actions.push(action);
    }
  };
  const listed = new Set<string>();
  for (const instance of input.desired) {
    const key = instanceKey(instance);
    listed.add(key);
    if (input.busy.has(key)) continue;
    const status = input.observed.get(key)?.status ?? "Stopped";
    if (instance.desired === "Running") {
      // Error stays Error, visible, until the service asks for a stop — unless boot.autorestart.
      const wanted = status === "Stopped" || (status === "Error" && autorestart(instance.config));
      if (wanted && !(input.holdFenced && instance.fence)) act({ kind: "start", key, instance });
    } else if (status !== "Stopped") {
      act({ kind: "stop", key, instance, timeoutS: shutdownTimeoutS(instance.config) });
    }
  }
  for (const [key, instance] of input.known) {
    if (listed.has(key) || input.busy.has(key)) continue;
    act({ kind: "forget", key, instance, timeoutS: shutdownTimeoutS(instance.config) });
  }
  return { actions, wakeAt };
}

export const FIRST_BACKOFF_MS = 1_000;
export const MAX_BACKOFF_MS = 30_000;
/** A run at least this long counts as healthy: the next failure starts the back-off over. */
export const HEALTHY_RUN_MS = 60_000;

/**
 * The back-off after a failed `kind` at `now`: waits of 1 s, 2 s, 4 s … at most 30 s, back to 1 s
 * when the failed run lasted 60 s or more, or the last failure was of another kind. ranMs is how
 * long it ran (undefined: it never ran).
 */
export function afterFailure(previous: Backoff | undefined, kind: Action["kind"], ranMs: number | undefined, now: number): Backoff {
  const fresh = previous?.kind !== kind || (ranMs !== undefined && ranMs >= HEALTHY_RUN_MS);
  const attempt = previous && !fresh ? previous.attempt : 0;
  const wait = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** Math.min(attempt, 16));
  return { kind, attempt: attempt + 1, notBefore: now + wait };
}
