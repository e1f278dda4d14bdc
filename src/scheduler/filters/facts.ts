/** What a filter's reason text may use: captured when the member was rejected, formatted later. */
import type { MemberInfo, PlacementRequest, SchedulerConfig } from "../types.ts";

export interface RejectionFacts {
  /** The member as it was when rejected (infos are replaced, never mutated). */
  info: MemberInfo;
  /** The filter's own sub-code (which status, which resource, ...); never 0. */
  detail: number;
  /** Numbers the resources filter captures: what is already requested and the raw total. */
  requested: number;
  total: number;
  request: PlacementRequest;
  config: SchedulerConfig;
}
