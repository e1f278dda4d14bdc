/** The scheduler's public surface: the view the service feeds, the pipeline, and the placer. */
export { ClusterView } from "./clusterView.ts";
export type { MemberUsage } from "./clusterView.ts";
export { checkMember, chooseBest, rank } from "./pipeline.ts";
export { checkGrowth, growthOf } from "./growth.ts";
export { PlacementResult } from "./result.ts";
export { Placer } from "./placer.ts";
export type {
  AlreadyInFlight, ChooseHook, HookDecision, HookFailed, Placement, PlacementDecision, PlaceOutcome, PlacerOptions,
  QueryOutcome, RejectedByHook, Unschedulable,
} from "./placer.ts";
export { hashString, seedFor } from "./seed.ts";
export { canonicalArchitecture, hostArchitecturesFor } from "./architectures.ts";
export {
  ARCHITECTURE_FILTER, EXCLUDE_FILTER, FILTERS, PROJECT_GROUPS_FILTER, RESOURCES_FILTER, SCHEDULER_INSTANCE_FILTER,
  STATUS_FILTER, TARGET_FILTER,
} from "./filters/index.ts";
export type { Filter, RejectionDetails, RejectionFacts, Verdicts } from "./filters/index.ts";
export { COUNT_RANKER, PACK_RANKER, SPREAD_RANKER } from "./rankers/index.ts";
export type {
  InsufficientResource, MemberInfo, MemberInput, PlacedRequest, PlacementRequest, PlacementTarget, RankedCandidate, Rejection, SchedulerConfig,
} from "./types.ts";
