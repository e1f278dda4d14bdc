/** Only Online members receive instances (not Offline, Pending, Evacuating, Evacuated, Restoring). */
import { MEMBER_STATUSES } from "../../domain/types.ts";
import { ONLINE } from "../memberColumns.ts";
import type { PreparedRequest } from "../prepared.ts";
import type { Filter, RejectionFacts, Verdicts } from "./filter.ts";

export const STATUS_FILTER = "status";

/** Drops members that are not Online; detail = the member's status code (so the reason names the status it had). */
function apply(p: PreparedRequest, list: Int32Array, count: number, verdicts: Verdicts, id: number): number {
  if (p.columns.unavailableCount === 0) return count; // every member is Online
  const status = p.columns.statusCode;
  const { by, detail } = verdicts;
  let kept = 0;
  for (let k = 0; k < count; k++) {
    const slot = list[k];
    const code = status[slot];
    if (code === ONLINE) list[kept++] = slot;
    else { by[slot] = id; detail[slot] = code; }
  }
  return kept;
}

function describe(f: RejectionFacts): string {
  return `member is ${MEMBER_STATUSES[f.detail]}`;
}

export const statusFilter: Filter = { name: STATUS_FILTER, apply, describe };
