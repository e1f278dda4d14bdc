/** Only Online members receive instances (not Offline, Pending, Evacuating, Evacuated, Restoring). */
import { MEMBER_STATUSES } from "../../domain/types.ts";
import { ONLINE_STATUS_CODE } from "../clusterView.ts";
import type { PreparedRequest } from "../prepared.ts";
import type { RejectionFacts } from "./facts.ts";

export const STATUS_FILTER = "status";

/** 0 = passes; otherwise 1 + the member's status code. */
export function checkStatus(p: PreparedRequest, slot: number): number {
  const code = p.columns.statusCode[slot];
  return code === ONLINE_STATUS_CODE ? 0 : code + 1;
}

/** Marks every member still passing (verdict 0) that this filter drops with `base` + detail. */
export function applyStatus(p: PreparedRequest, verdicts: Uint8Array, base: number): void {
  for (let slot = 0; slot < p.size; slot++) {
    if (verdicts[slot] !== 0) continue;
    const detail = checkStatus(p, slot);
    if (detail !== 0) verdicts[slot] = base + detail;
  }
}

export function describeStatus(f: RejectionFacts): string {
  return `member is ${MEMBER_STATUSES[f.detail - 1]}`;
}
