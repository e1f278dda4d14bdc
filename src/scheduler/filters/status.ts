/** Only Online members receive instances (not Offline, Pending, Evacuating, Evacuated, Restoring). */
import { MEMBER_STATUSES } from "../../domain/types.ts";
import { ONLINE } from "../memberColumns.ts";
import type { PreparedRequest } from "../prepared.ts";
import type { RejectionFacts } from "./facts.ts";

export const STATUS_FILTER = "status";

/** Drops members that are not Online; detail = 1 + the member's status code (so the reason can name it). */
export function applyStatus(p: PreparedRequest, list: Int32Array, count: number, verdicts: Uint8Array, base: number): number {
  if (p.columns.unavailableCount === 0) return count; // every member is Online
  const status = p.columns.statusCode;
  let kept = 0;
  for (let k = 0; k < count; k++) {
    const slot = list[k];
    const code = status[slot];
    if (code === ONLINE) list[kept++] = slot;
    else verdicts[slot] = base + 1 + code;
  }
  return kept;
}

export function describeStatus(f: RejectionFacts): string {
  return `member is ${MEMBER_STATUSES[f.detail - 1]}`;
}
