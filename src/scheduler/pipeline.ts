/**
 * The built-in placement: filter every member, then rank the survivors. A pure function of
 * (view, request, config, seed). Cost is a few passes over the members' typed columns:
 * O(members), no per-member allocation; instances only count through per-member sums the view
 * keeps up to date, so their number does not matter.
 */
import { candidateOf } from "./candidates.ts";
import type { ClusterView } from "./clusterView.ts";
import { applyFilters, FILTERS, STATUS_FILTER, Verdicts, type Filter } from "./filters/index.ts";
import { PreparedRequest } from "./prepared.ts";
import { compareScored, compareTies, scoreOf } from "./rankers/index.ts";
import { RejectionLog } from "./rejections.ts";
import { PlacementResult } from "./result.ts";
import { seedFor } from "./seed.ts";
import type { PlacementRequest, RankedCandidate, Rejection, SchedulerConfig } from "./types.ts";

/** Runs the filters over every member: the candidates' slots (in slot order) and the verdicts. */
function filtered(view: ClusterView, request: PlacementRequest, config: SchedulerConfig, seed: number, filters: readonly Filter[]) {
  const p = new PreparedRequest(view, request, config, seed);
  const verdicts = new Verdicts(p.size);
  const list = p.columns.allSlots();
  const passed = applyFilters(filters, p, list, p.size, verdicts);
  return { p, verdicts, list, passed };
}

function logOf(p: PreparedRequest, filters: readonly Filter[], verdicts: Verdicts, rejected: number): RejectionLog {
  return new RejectionLog(filters, verdicts, rejected > 0 ? p.columns.snapshotInfos() : [], rejected);
}

/** Every candidate, best first, with its score inputs; for the query endpoint and the hook.
 *  `filters` is the chain to run (FILTERS unless a test or an embedder brings its own). */
export function rank(
  view: ClusterView, request: PlacementRequest, config: SchedulerConfig,
  seed: number = seedFor(request.project, request.name), filters: readonly Filter[] = FILTERS,
): PlacementResult {
  const { p, verdicts, list, passed } = filtered(view, request, config, seed, filters);
  const scores = new Float64Array(p.size);
  const passing: number[] = new Array(passed);
  for (let k = 0; k < passed; k++) {
    const slot = list[k];
    passing[k] = slot;
    scores[slot] = scoreOf(p, slot);
  }
  passing.sort((a, b) => compareScored(p, a, scores[a], b, scores[b]));
  const candidates: RankedCandidate[] = passing.map((slot, k) => candidateOf(p, slot, k + 1));
  return new PlacementResult(candidates, candidates.length, request, config, logOf(p, filters, verdicts, p.size - passed));
}

/** The fast path: the same winner as rank(...).candidates[0], found by a linear scan without sorting. */
export function chooseBest(
  view: ClusterView, request: PlacementRequest, config: SchedulerConfig,
  seed: number = seedFor(request.project, request.name), filters: readonly Filter[] = FILTERS,
): PlacementResult {
  const { p, verdicts, list, passed } = filtered(view, request, config, seed, filters);
  let best = -1;
  let bestScore = 0;
  for (let k = 0; k < passed; k++) {
    const slot = list[k];
    const score = scoreOf(p, slot);
    // Same order as compareScored, with the common cases (worse or better score) decided inline.
    if (best >= 0 && score > bestScore) continue;
    if (best < 0 || score < bestScore || compareTies(p, slot, best) < 0) {
      best = slot;
      bestScore = score;
    }
  }
  const candidates = best < 0 ? [] : [candidateOf(p, best, 1)];
  return new PlacementResult(candidates, passed, request, config, logOf(p, filters, verdicts, p.size - passed));
}

/** Runs the filters on one member as the view is now: null when it can take the request. Used to
 *  re-check a member chosen before an await, when other placements may have landed meanwhile. */
export function checkMember(
  view: ClusterView, request: PlacementRequest, config: SchedulerConfig, member: string,
  filters: readonly Filter[] = FILTERS,
): Rejection | null {
  const slot = view.slot(member);
  if (slot < 0) return { member, filter: STATUS_FILTER, reason: `${STATUS_FILTER}: member is no longer in the cluster` };
  const p = new PreparedRequest(view, request, config, 0);
  const verdicts = new Verdicts(p.size);
  if (applyFilters(filters, p, Int32Array.of(slot), 1, verdicts) === 1) return null;
  return logOf(p, filters, verdicts, 1).format(request, config)[0];
}
