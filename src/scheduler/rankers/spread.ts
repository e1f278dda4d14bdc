/** Least allocated first: spreads cpu and memory requests evenly over members of any size. */
import type { PreparedRequest } from "../prepared.ts";
import { allocatedAfter } from "./allocation.ts";

export const SPREAD_RANKER = "spread";

/** Lower is better. */
export function spreadScore(p: PreparedRequest, slot: number): number {
  return allocatedAfter(p, slot);
}
