/** Most allocated first (bin packing): fills members up and keeps others empty for big requests. */
import type { PreparedRequest } from "../prepared.ts";
import { allocatedAfter } from "./allocation.ts";

export const PACK_RANKER = "pack";

/** Lower is better, so the fullest member scores lowest. */
export function packScore(p: PreparedRequest, slot: number): number {
  return -allocatedAfter(p, slot);
}
