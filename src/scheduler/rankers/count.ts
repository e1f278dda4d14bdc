/** LXD's default: the member with the fewest instances, counting placements still in flight. */
import type { PreparedRequest } from "../prepared.ts";

export const COUNT_RANKER = "count";

/** Lower is better. */
export function countScore(p: PreparedRequest, slot: number): number {
  return p.columns.instanceCount[slot];
}
