/** Everything the HTTP layer calls: built once in main.ts (or a test) and handed to createApp. */
import type { Logger } from "pino";
import type { ConfigService } from "../cluster/configService.ts";
import type { GroupService } from "../cluster/groupService.ts";
import type { InstanceRecords } from "../cluster/instanceRecords.ts";
import type { JoinService } from "../cluster/joinService.ts";
import type { InstanceService } from "../cluster/instanceService.ts";
import type { MemberService } from "../cluster/memberService.ts";
import type { PoolService } from "../cluster/poolService.ts";
import type { ProjectService } from "../cluster/projectService.ts";
import type { TokenService } from "../cluster/tokenService.ts";
import type { ReplicaStatus } from "../cluster/replicas.ts";
import type { TrustService } from "../cluster/trustService.ts";
import type { EventBus } from "../events/bus.ts";
import type { AgentRegistry } from "../members/agents.ts";
import type { DesiredState } from "../members/desiredState.ts";
import type { HealingStats } from "../members/healing.ts";
import type { OperationManager } from "../operations/manager.ts";
import type { Store } from "../store/store.ts";

export interface Services {
  store: Store;
  bus: EventBus;
  config: ConfigService;
  members: MemberService;
  groups: GroupService;
  pools: PoolService;
  projects: ProjectService;
  instances: InstanceService;
  /** Instance records as executors write them (tests use it to set up crash states). */
  records: InstanceRecords;
  tokens: TokenService;
  join: JoinService;
  /** Trusted client certificates and the trust tokens that add them. */
  trust: TrustService;
  operations: OperationManager;
  /** What members' agents report. */
  agents: AgentRegistry;
  /** What members' agents should run (their long-poll). */
  desired: DesiredState;
  /** This replica and the others sharing its database (GET /1.0, metrics). */
  replicas?: ReplicaStatus;
  /** Healing: what a heartbeat answer carries, and what the metrics show. */
  healing: { acknowledge(member: string, inForce?: number): { healing_threshold: number; fence_margin: number }; stats(): HealingStats };
  logger: Logger;
  now: () => number;
}
