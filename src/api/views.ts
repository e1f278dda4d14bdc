/**
 * Berth's objects in the shapes LXD clients read: instances with status_code (and, in the full
 * form, state, snapshots and backups), storage pools with status, locations and used_by, projects
 * with used_by; and collections as LXD lists them (URLs, or objects with ?recursion=, after
 * ?filter=).
 */
import type { Context } from "hono";
import { instanceUrl } from "../cluster/instanceRecords.ts";
import { matchFilter, parseFilter } from "../domain/filter.ts";
import { INSTANCE_STATUS_CODES, type Instance, type Project, type StoragePool } from "../domain/types.ts";
import type { Services } from "./services.ts";
import { recursion } from "./validation.ts";

/** An instance as the API shows it: LXD's api.Instance fields Berth has, and status_code. */
export interface InstanceView extends Instance {
  status_code: number;
  /** Berth has no ephemeral or stateful instances; LXD clients read and send these back. */
  ephemeral: false;
  stateful: false;
}

export function instanceView(instance: Instance): InstanceView {
  return { ...instance, status_code: INSTANCE_STATUS_CODES[instance.status], ephemeral: false, stateful: false };
}

/** An instance with what its member's agent observed, where it has one (the pid its driver reported). */
export type ObservedInstanceView = Instance & { observed?: { pid?: number } };

/**
 * LXD's api.InstanceState. Berth knows the status, where the instance is and, on a member with an
 * agent, the pid its driver reported; usage counters are zero, and pid 0 where unknown.
 */
export function instanceState(instance: ObservedInstanceView) {
  return {
    status: instance.status,
    status_code: INSTANCE_STATUS_CODES[instance.status],
    location: instance.location,
    pid: instance.observed?.pid ?? 0,
    processes: 0,
    cpu: { usage: 0 },
    memory: { usage: 0, usage_peak: 0, swap_usage: 0, swap_usage_peak: 0 },
    disk: {},
    network: {},
  };
}

/** LXD's api.InstanceFull (instance_get_full, container_full): Berth keeps no snapshots or backups. */
export function instanceFull(instance: ObservedInstanceView) {
  return { ...instanceView(instance), state: instanceState(instance), snapshots: [], backups: [] };
}

/** LXD's api.StoragePool. */
export async function poolView(s: Services, pool: StoragePool) {
  return {
    name: pool.name, driver: pool.driver, description: pool.description, config: pool.config,
    status: pool.status, locations: await s.pools.locations(pool), used_by: await s.pools.usedBy(pool.name),
  };
}

/** LXD's api.Project: used_by lists the project's instances. */
export async function projectView(s: Services, project: Project) {
  return { ...project, used_by: (await s.instances.list({ project: project.name })).map(instanceUrl) };
}

/**
 * A collection as LXD lists it: URLs by default, the objects with ?recursion=1 (and with
 * ?recursion=2 the fuller form where there is one), keeping those that pass ?filter=. The filter
 * sees the form that is returned (URLs: the recursion=1 form).
 */
export async function listing<T>(
  c: Context, items: T[], url: (item: T) => string, view: (item: T, depth: number) => unknown = (item) => item,
): Promise<unknown[]> {
  const depth = recursion(c);
  const text = c.req.query("filter");
  const clauses = text ? parseFilter(text) : null;
  const out: unknown[] = [];
  for (const item of items) {
    const shown = await view(item, Math.max(depth, 1));
    if (clauses && !matchFilter(shown, clauses)) continue;
    out.push(depth > 0 ? shown : url(item));
  }
  return out;
}
