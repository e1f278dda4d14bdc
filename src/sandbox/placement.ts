/** One instance_placement call inside a worker: build its arguments, run it, decide the outcome. */
import { toError } from "../domain/errors.ts";
import { memberUpdates } from "./hostBindings.ts";
import { guestRequestText } from "./placeCall.ts";
import type { Ranking } from "./ranking.ts";
import type { Replica } from "./replica.ts";
import type { CallResult, VmSession } from "./session.ts";
import type { SandboxLimits, ScriptletOutcome, ScriptletRequest } from "./types.ts";

const REJECT_MESSAGE_MAX = 4096;

export function notCalled(error: string | null): ScriptletOutcome {
  return { called: false, target: null, rejected: error, logs: [], duration_ms: 0, error };
}

const cap = (text: string): string => (text.length > REJECT_MESSAGE_MAX ? `${text.slice(0, REJECT_MESSAGE_MAX)}…` : text);

/**
 * The outcome of a call: limits first, then fail() and invalid targets, then throws, then the return
 * value. (Plain branches, no closures: this runs on every call.)
 */
export function decide(result: CallResult, started: number, limits: SandboxLimits): ScriptletOutcome {
  const { target, failure, deliberate, logs } = result.state;
  let chosen: string | null = null;
  let rejected: string | null = null;
  let error: string | null = null;
  if (!result.ok && result.error.kind !== "error") rejected = error = result.error.text; // time, memory, stack
  // It returned, but only after its time limit (e.g. an async function swallowed the interrupt).
  else if (result.ok && result.timedOut) rejected = error = `Scriptlet exceeded its time limit of ${limits.timeoutMs} ms`;
  else if (failure !== null) {
    rejected = cap(failure);
    error = deliberate ? null : rejected;
  } else if (!result.ok) rejected = error = result.error.text;
  else if (result.type === "undefined") chosen = target;
  else if (result.type === "string") rejected = cap(result.value || "Placement rejected by the scriptlet");
  else {
    rejected = error = `instance_placement returned an unsupported value of type ${result.type}; return nothing to accept the placement or a string to reject it`;
  }
  return { called: true, target: chosen, rejected, logs, duration_ms: performance.now() - started, error };
}

/**
 * Runs one placement. Only the request and the candidates' slots cross into the guest; the members
 * themselves are frozen guest objects cached per session and re-sent only when they changed.
 * `reset` says the session must be rebuilt: the call threw or hit a limit (its own state may be
 * half-changed) or left promise jobs queued (they would pile up, as they never run here).
 */
export function place(
  s: VmSession, replica: Replica, request: ScriptletRequest | string, ranking: Ranking, limits: SandboxLimits,
): { outcome: ScriptletOutcome; reset: boolean } {
  const started = performance.now();
  const { env } = s;
  const unchanged = env.syncedVersion === replica.membersVersion; // no member changed since the guest synced
  const same = unchanged && env.ranking === ranking && env.rankingVersion === ranking.version; // the guest holds this very list
  let slots: Uint32Array | null = null;
  if (!same) {
    const found = ranking.slots(replica);
    if (typeof found === "string") {
      return { outcome: notCalled(`Candidate member ${found} is unknown to the scriptlet sandbox (send its member.upsert delta first)`), reset: false };
    }
    slots = found;
  }
  let updates = "[]";
  if (!unchanged && env.syncedVersion >= 0) {
    // The guest holds every member: send the ones that changed, whether candidates or not.
    const version = replica.membersVersion;
    updates = memberUpdates(env, replica.allMemberNames());
    env.syncedVersion = version;
  } else if (!unchanged && slots) updates = memberUpdates(env, Array.from(slots, (slot) => replica.nameAt(slot) ?? ""));
  env.ranking = ranking;
  env.rankingVersion = ranking.version;
  const requestText = typeof request === "string" ? request : guestRequestText(request); // string: from placeCall.ts
  const payload = `[${requestText},${replica.membersVersion},${replica.instancesVersion},${replica.countsVersion}]`;
  const result = s.call(payload, updates, slots);
  if (s.broken) throw toError(s.broken); // a host function failed unexpectedly: treat the runtime as broken
  return { outcome: decide(result, started, limits), reset: !result.ok || result.timedOut || result.dirty };
}
