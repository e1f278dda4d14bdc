/**
 * A member's heartbeat (POST /1.0/cluster/members/{name}/heartbeat): what it does and what it
 * answers, shared by the hono route and the fast path that takes agents' heartbeats straight off
 * node:http (heartbeatFastPath.ts).
 */
import { completeResources } from "../domain/resources.ts";
import type { MemberRecord, MemberStateReport } from "../domain/types.ts";
import type { HeartbeatInput } from "./schemas.ts";
import type { Services } from "./services.ts";

export async function answerHeartbeat(s: Services, name: string, body: HeartbeatInput) {
  const reported = body.resources;
  const resources = reported ? (record: MemberRecord) => completeResources(reported, record.architecture) : null;
  const member = await s.members.heartbeat(name, resources, (body.state as MemberStateReport | undefined) ?? null);
  s.agents.report(name, body.agent, body.instances, reported?.storage?.pools);
  const threshold = s.config.get()["cluster.offline_threshold"];
  return {
    status: member.status, message: member.message, offline_threshold: threshold, heartbeat_interval: Math.max(1, Math.floor(threshold / 4)),
    ...s.healing.acknowledge(name, body.healing_threshold),
  };
}
