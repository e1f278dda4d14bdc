/**
 * The built-in placement: filter every member, then rank the survivors. A pure function of
 * (view, request, config, seed). Cost is one pass over the members' columns: O(members), with
 * no per-member allocation; instances only matter through per-member sums kept by the view.
 */
import { candidateOf } from "./candidates.ts";
import type { ClusterView } from "./clusterView.ts";
import { firstRejection } from "./filters/index.ts";
import { PreparedRequest } from "./prepared.ts";
import { compareScored, scoreOf } from "./rankers/index.ts";
import { RejectionLog } from "./rejections.ts";
import { PlacementResult } from "./result.ts";
import { seedFor } from "./seed.ts";
import type { PlacementRequest, RankedCandidate, Rejection, SchedulerConfig } from "./types.ts";

/** Every candidate, best first, with its score inputs; for the query endpoint and the hook. */
export function rank(
  view: ClusterView, request: PlacementRequest, config: SchedulerConfig,
  seed: number = seedFor(request.project, request.name),
): PlacementResult {
  const p = new PreparedRequest(view, request, config, seed);
  const log = new RejectionLog();
  const passing: number[] = [];
  const scores = new Float64Array(p.size);
  for (let slot = 0; slot < p.size; slot++) {
    const code = firstRejection(p, slot);
    if (code !== 0) {
      log.add(p, slot, code);
      continue;
    }
    passing.push(slot);
    scores[slot] = scoreOf(p, slot);
  }
  passing.sort((a, b) => compareScored(p, a, scores[a], b, scores[b]));
  const candidates: RankedCandidate[] = passing.map((slot, k) => candidateOf(p, slot, k + 1));
  return new PlacementResult(candidates, candidates.length, request, config, log);
}

/** The fast path: the same winner as rank(...).candidates[0], found by a linear scan without sorting. */
export function chooseBest(
  view: ClusterView, request: PlacementRequest, config: SchedulerConfig,
  seed: number = seedFor(request.project, request.name),
): PlacementResult {
  const p = new PreparedRequest(view, request, config, seed);
  const log = new RejectionLog();
  let best = -1;
  let bestScore = 0;
  let passed = 0;
  for (let slot = 0; slot < p.size; slot++) {
    const code = firstRejection(p, slot);
    if (code !== 0) {
      log.add(p, slot, code);
      continue;
    }
    passed++;
    const score = scoreOf(p, slot);
    if (best < 0 || compareScored(p, slot, score, best, bestScore) < 0) {
      best = slot;
      bestScore = score;
    }
  }
  const candidates = best < 0 ? [] : [candidateOf(p, best, 1)];
  return new PlacementResult(candidates, passed, request, config, log);
}

/** Runs the filters on one member as the view is now: null when it can take the request. Used to
 *  re-check a member chosen before an await, when other placements may have landed meanwhile. */
export function checkMember(
  view: ClusterView, request: PlacementRequest, config: SchedulerConfig, member: string,
): Rejection | null {
  const slot = view.slot(member);
  if (slot < 0) return { member, filter: "status", reason: "status: member is no longer in the cluster" };
  const p = new PreparedRequest(view, request, config, 0);
  const code = firstRejection(p, slot);
  if (code === 0) return null;
  const log = new RejectionLog();
  log.add(p, slot, code);
  return log.format(request, config)[0];
}
