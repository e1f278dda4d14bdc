/**
 * Turns a decision into a reservation, safely under concurrency. The final check and the
 * reservation always happen in the same synchronous stretch, so two placements can never both
 * take the last slot of a member.
 *
 * With a hook (the placement scriptlet), the built-in best is reserved *provisionally* before the
 * hook is awaited, so placements running concurrently see it and spread out (100 concurrent
 * creates on 10 members still land 10 each). After the hook answers, the provisional reservation
 * is dropped and the chosen member is re-checked and reserved in one step; if it no longer fits
 * (another placement landed meanwhile), the whole decision runs again.
 */
import { toError } from "../domain/errors.ts";
import type { ClusterView } from "./clusterView.ts";
import { checkMember, chooseBest, rank } from "./pipeline.ts";
import type { PlacementResult } from "./result.ts";
import type { PlacedRequest, PlacementRequest, RankedCandidate, Rejection, SchedulerConfig } from "./types.ts";

/** What the hook answers: a member (or nothing: the first candidate), or a rejection message. */
export type HookDecision = { target?: string } | { reject: string };
export type ChooseHook = (request: PlacementRequest, candidates: readonly RankedCandidate[]) => Promise<HookDecision>;

export interface PlacementDecision {
  ok: true;
  member: string;
  /** Best first: every candidate when ranked (query, or place with a hook); only the winner on
   *  place's fast path without a hook. */
  candidates: readonly RankedCandidate[];
  /** Formatted when first read. */
  readonly rejected: readonly Rejection[];
  chosenBy: "built-in" | "hook";
  result: PlacementResult;
}
export interface Placement extends PlacementDecision {
  /** The view holds a reservation under this key: commit() it once the instance exists, release() on failure. */
  reservationKey: string;
}

/** No member passed the filters (409 for new/relocation). */
export interface Unschedulable {
  ok: false;
  code: "unschedulable";
  readonly message: string;
  readonly rejected: readonly Rejection[];
}
/** The hook refused the placement: its message is the user's answer. */
export interface RejectedByHook { ok: false; code: "rejected"; message: string }
/** The hook broke (threw, or chose a member that is not a candidate): not the cluster's fault. */
export interface HookFailed { ok: false; code: "hook-failed"; message: string; cause: Error }
/** A placement under the same key is already reserved and not yet committed or released. */
export interface AlreadyInFlight { ok: false; code: "in-flight"; message: string }

export type QueryOutcome = PlacementDecision | Unschedulable | RejectedByHook | HookFailed;
export type PlaceOutcome = Placement | Unschedulable | RejectedByHook | HookFailed | AlreadyInFlight;

export interface PlacerOptions {
  /** How many times a decision is re-run when the hook's choice filled up meanwhile. */
  maxAttempts?: number;
}

export class Placer {
  private readonly maxAttempts: number;

  constructor(private readonly view: ClusterView, private readonly hook?: ChooseHook, options: PlacerOptions = {}) {
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  }

  /** Decides and reserves. Never throws for a placement problem; the result says what happened. */
  async place(request: PlacementRequest, config: SchedulerConfig, seed: number, key: string): Promise<PlaceOutcome> {
    const view = this.view;
    if (view.reservationOf(key) !== undefined) {
      return { ok: false, code: "in-flight", message: `A placement of "${key}" is already in progress` };
    }
    const placed = placedRequest(request);
    const hook = this.hook;
    if (!hook) {
      // Fast path: scan, then reserve in the same tick.
      const result = chooseBest(view, request, config, seed);
      if (!result.best) return unschedulable(result);
      view.reserve(key, result.best.member, placed);
      return decided(result, result.best.member, "built-in", key);
    }
    let lastResult: PlacementResult | null = null;
    let lastProblem: Rejection | null = null;
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const result = rank(view, request, config, seed);
      const first = result.best;
      if (!first) return unschedulable(result);
      view.reserve(key, first.member, placed); // provisional: visible to concurrent placements
      let answer: HookDecision;
      try {
        answer = await hook(request, result.candidates);
      } catch (thrown) {
        return hookFailed(thrown);
      } finally {
        view.release(key);
      }
      const checked = checkAnswer(answer, result);
      if (!checked.ok) return checked;
      // Re-check and reserve with no await in between.
      const problem = checkMember(view, request, config, checked.member);
      if (problem === null) {
        view.reserve(key, checked.member, placed);
        return decided(result, checked.member, checked.chosenBy, key);
      }
      lastResult = result;
      lastProblem = problem;
    }
    return contended(lastResult!, lastProblem!, this.maxAttempts);
  }

  /** The same decision as place() for the same view and seed, without reserving (dry run). */
  async query(request: PlacementRequest, config: SchedulerConfig, seed: number): Promise<QueryOutcome> {
    const result = rank(this.view, request, config, seed);
    const first = result.best;
    if (!first) return unschedulable(result);
    const hook = this.hook;
    if (!hook) return decided(result, first.member, "built-in");
    let answer: HookDecision;
    try {
      answer = await hook(request, result.candidates);
    } catch (thrown) {
      return hookFailed(thrown);
    }
    const checked = checkAnswer(answer, result);
    return checked.ok ? decided(result, checked.member, checked.chosenBy) : checked;
  }
}

function placedRequest(request: PlacementRequest): PlacedRequest {
  return { ...request.request, pool: request.pool };
}

type CheckedAnswer = { ok: true; member: string; chosenBy: "built-in" | "hook" } | RejectedByHook | HookFailed;

function checkAnswer(answer: HookDecision, result: PlacementResult): CheckedAnswer {
  if ("reject" in answer) return { ok: false, code: "rejected", message: answer.reject };
  if (answer.target === undefined) return { ok: true, member: result.candidates[0].member, chosenBy: "built-in" };
  const target = answer.target;
  if (!result.candidates.some((c) => c.member === target)) {
    const names = result.candidates.map((c) => c.member).join(", ");
    const message = `The placement hook chose "${target}", which is not a candidate (candidates: ${names})`;
    return { ok: false, code: "hook-failed", message, cause: new Error(message) };
  }
  return { ok: true, member: target, chosenBy: "hook" };
}

/** Results are small classes, not literals with getters: cheaper to build on the fast path, and
 *  `rejected` stays lazy (a spread or JSON.stringify of a literal would format it). */
class Decision implements PlacementDecision {
  readonly ok = true;
  constructor(
    readonly member: string,
    readonly chosenBy: "built-in" | "hook",
    readonly result: PlacementResult,
  ) {}
  get candidates(): readonly RankedCandidate[] {
    return this.result.candidates;
  }
  get rejected(): readonly Rejection[] {
    return this.result.rejected;
  }
  toJSON() {
    return { ok: true, member: this.member, chosenBy: this.chosenBy, candidates: this.candidates, rejected: this.rejected };
  }
}

class ReservedDecision extends Decision implements Placement {
  constructor(member: string, chosenBy: "built-in" | "hook", result: PlacementResult, readonly reservationKey: string) {
    super(member, chosenBy, result);
  }
  override toJSON() {
    return { ...super.toJSON(), reservationKey: this.reservationKey };
  }
}

function decided(result: PlacementResult, member: string, chosenBy: "built-in" | "hook"): PlacementDecision;
function decided(result: PlacementResult, member: string, chosenBy: "built-in" | "hook", reservationKey: string): Placement;
function decided(
  result: PlacementResult, member: string, chosenBy: "built-in" | "hook", reservationKey?: string,
): PlacementDecision | Placement {
  return reservationKey === undefined
    ? new Decision(member, chosenBy, result)
    : new ReservedDecision(member, chosenBy, result, reservationKey);
}

class NoCandidate implements Unschedulable {
  readonly ok = false;
  readonly code = "unschedulable";
  constructor(private readonly result: PlacementResult) {}
  get message(): string {
    return this.result.summary();
  }
  get rejected(): readonly Rejection[] {
    return this.result.rejected;
  }
  toJSON() {
    return { ok: false, code: this.code, message: this.message, rejected: this.rejected };
  }
}

function unschedulable(result: PlacementResult): Unschedulable {
  return new NoCandidate(result);
}

function contended(result: PlacementResult, problem: Rejection, attempts: number): Unschedulable {
  const r = result.request;
  return {
    ok: false, code: "unschedulable",
    message: `No cluster member could be reserved for instance "${r.name}" in project "${r.project}": ` +
      `the chosen member stopped fitting while the placement hook ran, ${attempts} times (last: ${problem.member}: ${problem.reason})`,
    get rejected() {
      return [...result.rejected, problem];
    },
  };
}

function hookFailed(thrown: unknown): HookFailed {
  const cause = toError(thrown);
  return { ok: false, code: "hook-failed", message: `The placement hook failed: ${cause.message}`, cause };
}
