/** Builds the ranked candidate objects (only for members that are returned, never per scanned member). */
import { maskHas } from "./prepared.ts";
import type { PreparedRequest } from "./prepared.ts";
import { allocatedAfter } from "./rankers/index.ts";
import { tieBreakOf } from "./seed.ts";
import type { RankedCandidate } from "./types.ts";

export function candidateOf(p: PreparedRequest, slot: number, rank: number): RankedCandidate {
  const c = p.columns;
  const hasPool = p.request.pool !== undefined && maskHas(p.poolPresent, slot);
  return {
    member: c.names[slot],
    rank,
    instanceCount: c.instanceCount[slot],
    pending: c.pendingCount[slot],
    free: {
      cpu: c.cpuFreeMilli[slot] / 1000,
      memory: c.memoryFree[slot],
      disk: hasPool ? p.poolFree[slot] : null,
      gpu: c.gpuFree[slot],
    },
    requestedMemory: c.memoryRequested[slot],
    reportedFreeMemory: c.reportedFreeMemory[slot],
    allocated: allocatedAfter(p, slot),
    tieBreak: tieBreakOf(p.seed, c.nameHash[slot]),
  };
}
