/**
 * The check a placement makes against the stored truth when several replicas share the database:
 * inside the transaction that stores the instance, with the member's row locked (so placements on
 * that member from every replica take turns), the member's stored resources and the instances
 * stored on it are read and the request is checked with the scheduler's own arithmetic
 * (checkGrowth) on a one-member view. Each replica's in-memory view may lag the others' commits by
 * a feed round trip; this check does not, so no member is over-committed whatever the views say.
 */
import { conflict } from "../domain/errors.ts";
import type { MemberResources } from "../domain/types.ts";
import { checkGrowth, ClusterView, type PlacedRequest, type SchedulerConfig } from "../scheduler/index.ts";
import type { Store } from "../store/store.ts";
import { instanceKey, placedRequest } from "./schedulerIndex.ts";

export async function confirmFit(
  tx: Store, member: string, instance: { project: string; name: string }, request: PlacedRequest, config: SchedulerConfig,
): Promise<void> {
  await tx.lockMember(member);
  const record = await tx.getMember(member);
  if (!record) throw conflict(`Cluster member "${member}" was removed while the placement was decided`);
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
    if (key !== self) view.addInstance(key, member, placedRequest(placed));
  }
  const problem = checkGrowth(view, member, request, config);
  if (problem !== null) {
    throw conflict(`Instance "${instance.name}" in project "${instance.project}" no longer fits on cluster member "${member}" (another replica placed there meanwhile): ${problem}; try again`);
  }
}
