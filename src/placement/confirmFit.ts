/**
 * The check a placement makes against the stored truth when several replicas share the database:
 * inside the transaction that stores the instance (a create), its new location (a move) or its new
 * limits (a resize), with the member's row locked (so placements on that member from every replica
 * take turns), the member's stored resources and the instances stored on it are read and the
 * request is checked with the scheduler's own arithmetic (checkGrowth) on a one-member view. Each
 * replica's in-memory view may lag the others' commits by a feed round trip; this check does not,
 * so no member is over-committed whatever the views say.
 */
import { conflict } from "../domain/errors.ts";
import type { ServerConfig } from "../domain/serverConfig.ts";
import type { MemberRecord, MemberResources } from "../domain/types.ts";
import { NoLongerFits, type ConfirmPlacement } from "../cluster/placementPort.ts";
import { checkGrowth, ClusterView, type PlacedRequest, type SchedulerConfig } from "../scheduler/index.ts";
import type { Store } from "../store/store.ts";
import { instanceKey, placedRequest } from "./schedulerIndex.ts";

/** The scheduler's settings in the server config. */
export function schedulerConfigOf(c: ServerConfig): SchedulerConfig {
  return { strategy: c["scheduler.strategy"], cpuAllocationRatio: c["scheduler.cpu_allocation_ratio"], memoryAllocationRatio: c["scheduler.memory_allocation_ratio"] };
}

/** A member's stored record with what this process knows newer of it (a heartbeat not yet written); no store call. */
export type LatestRecord = (stored: MemberRecord) => MemberRecord;

/**
 * Checks that `request` fits on `member` beside what is stored there. `instance` is the one placed:
 * its own stored row is not counted (a move or a create), unless `countSelf` (a resize, whose
 * request is only the growth beyond what is stored).
 */
export async function confirmFit(
  tx: Store, member: string, instance: { project: string; name: string }, request: PlacedRequest, config: SchedulerConfig,
  options: { latest?: LatestRecord; countSelf?: boolean } = {},
): Promise<void> {
  await tx.lockMember(member);
  const stored = await tx.getMember(member);
  if (!stored) throw conflict(`Cluster member "${member}" was removed while the placement was decided`);
  const record = options.latest ? options.latest(stored) : stored;
  const r = record.resources as MemberResources | null;
  const view = new ClusterView();
  view.upsertMember({
    name: member, architecture: record.architecture, failureDomain: record.failure_domain, groups: [], schedulerMode: "all",
    status: "Online", cpuTotal: r?.cpu.total ?? 0, memoryTotal: r?.memory.total ?? 0, memoryUsed: r?.memory.used ?? 0,
    pools: r?.storage.pools ?? {}, gpuTotal: r?.gpu.total ?? 0, load1m: r?.load.average_1m ?? 0,
  });
  const self = instanceKey(instance.project, instance.name);
  for (const placed of await tx.instanceResourcesOn(member)) {
    const key = instanceKey(placed.project, placed.name);
    if (key !== self || options.countSelf) view.addInstance(key, member, placedRequest(placed));
  }
  const problem = checkGrowth(view, member, request, config);
  if (problem !== null) {
    throw new NoLongerFits(`Instance "${instance.name}" in project "${instance.project}" no longer fits on cluster member "${member}" (something was placed there that this replica had not seen yet): ${problem}; try again`);
  }
}

/** The check of a move's new location (InstanceRecords): all of the instance, as stored in the transaction, on the member. */
export function moveConfirmation(config: () => ServerConfig, latest: LatestRecord): ConfirmPlacement {
  return (tx, instance, member) => confirmFit(tx, member, instance, placedRequest(instance), schedulerConfigOf(config()), { latest });
}
