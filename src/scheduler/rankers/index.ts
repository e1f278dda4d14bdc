/**
 * One ordering for every strategy: the strategy's score, then fewest instances (in-flight
 * included), then least requested (allocated) memory, then a seeded random, then the name. The scan
 * (chooseBest) and the sort (rank) both follow compareScored, so the best of one is the first of the other.
 */
import { STRATEGY_CODES } from "../prepared.ts";
import type { PreparedRequest } from "../prepared.ts";
import { tieBreakOf } from "../seed.ts";
import { COUNT_RANKER, countScore } from "./count.ts";
import { PACK_RANKER, packScore } from "./pack.ts";
import { SPREAD_RANKER, spreadScore } from "./spread.ts";

export { allocatedAfter } from "./allocation.ts";
export { COUNT_RANKER, PACK_RANKER, SPREAD_RANKER };

export function scoreOf(p: PreparedRequest, slot: number): number {
  if (p.strategy === STRATEGY_CODES.count) return countScore(p, slot);
  return p.strategy === STRATEGY_CODES.spread ? spreadScore(p, slot) : packScore(p, slot);
}

/** Negative when slot a ranks before slot b, given a's and b's scores. Never 0 for distinct members. */
export function compareScored(p: PreparedRequest, a: number, scoreA: number, b: number, scoreB: number): number {
  if (scoreA !== scoreB) return scoreA < scoreB ? -1 : 1;
  return compareTies(p, a, b);
}

/** The order between two members with equal scores. */
export function compareTies(p: PreparedRequest, a: number, b: number): number {
  const c = p.columns;
  const countA = c.instanceCount[a];
  const countB = c.instanceCount[b];
  if (countA !== countB) return countA - countB;
  // What the member's instances and placements in flight request, not what it reports free: a
  // report lags (an instance just placed has not started) and differs between equal members by
  // noise; requests are what the scheduler itself committed (DESIGN §3).
  const requestedA = c.memoryRequested[a];
  const requestedB = c.memoryRequested[b];
  if (requestedA !== requestedB) return requestedA < requestedB ? -1 : 1;
  const tieA = tieBreakOf(p.seed, c.nameHash[a]);
  const tieB = tieBreakOf(p.seed, c.nameHash[b]);
  if (tieA !== tieB) return tieA < tieB ? -1 : 1;
  return c.names[a] < c.names[b] ? -1 : c.names[a] > c.names[b] ? 1 : 0;
}
