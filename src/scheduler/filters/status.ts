/** Only Online members receive instances (not Offline, Pending, Evacuating, Evacuated, Restoring). */
import { MEMBER_STATUSES } from "../../domain/types.ts";
import { ONLINE_STATUS_CODE } from "../clusterView.ts";
import type { PreparedRequest } from "../prepared.ts";
import type { RejectionFacts } from "./facts.ts";

export const STATUS_FILTER = "status";

/** Drops members that are not Online; detail = 1 + the member's status code (so the reason can name it). */
export function applyStatus(p: PreparedRequest, verdicts: Uint8Array, base: number, from: number, to: number): void {
  const status = p.columns.statusCode;
  for (let slot = from; slot < to; slot++) {
    if (verdicts[slot] === 0 && status[slot] !== ONLINE_STATUS_CODE) verdicts[slot] = base + 1 + status[slot];
  }
}

export function describeStatus(f: RejectionFacts): string {
  return `member is ${MEMBER_STATUSES[f.detail - 1]}`;
}
