/**
 * The InstancePlacement the services use: turns an instance and a ?target= into a scheduler
 * request, runs the Placer (with the scriptlet hook when one is installed), and maps outcomes to
 * HTTP errors: 404/403 for a bad target, 409 with every member's reason when nothing fits, 400
 * when the scriptlet rejects.
 */
import type { ConfigService } from "../cluster/configService.ts";
import type { GroupService } from "../cluster/groupService.ts";
import type { InstancePlacement, PlacementRequestInput, PlacementTicket } from "../cluster/placementPort.ts";
import type { MemberService } from "../cluster/memberService.ts";
import type { PoolService } from "../cluster/poolService.ts";
import { restrictedGroups, type ProjectService } from "../cluster/projectService.ts";
import { badRequest, BerthError, conflict, forbidden } from "../domain/errors.ts";
import { CLUSTER_GROUP_KEY, resourceRequest, rootDisk } from "../domain/instanceConfig.ts";
import type { Instance, PlacementReason } from "../domain/types.ts";
import {
  checkGrowth, growthOf, Placer, seedFor, type ChooseHook, type InsufficientResource, type PlacedRequest, type PlacementRequest,
  type QueryOutcome, type Rejection, type SchedulerConfig,
} from "../scheduler/index.ts";
import type { Store } from "../store/store.ts";
import { confirmFit, schedulerConfigOf } from "./confirmFit.ts";
import { instanceKey, placedRequest, type SchedulerIndex } from "./schedulerIndex.ts";

export interface PlacementDeps {
  index: SchedulerIndex;
  config: ConfigService;
  members: MemberService;
  groups: GroupService;
  projects: ProjectService;
  pools: PoolService;
  /** The scriptlet hook provider (null: built-in placement only). */
  hooks: HookProvider | null;
  /** Hears of every placement refused (nothing fits, the scriptlet said no): the service log. */
  onRefused?: (instance: Instance, reason: PlacementReason, error: BerthError) => void;
}

/** Supplies the scriptlet hook for a placement, and hears about placements in flight. */
export interface HookProvider {
  hookFor(instance: Instance): ChooseHook | undefined;
  pending(id: string, instance: Instance, location: string | null): void;
}

export class SchedulerPlacement implements InstancePlacement {
  /** The built-in placer (no hook): the fast path when no scriptlet is installed. */
  private readonly builtIn: Placer;
  private readonly hooks: HookProvider | null;
  /** member → tickets not yet committed or released, and who waits for them to be none. */
  private readonly outstanding = new Map<string, { count: number; waiters: (() => void)[] }>();

  constructor(private readonly deps: PlacementDeps) {
    this.builtIn = new Placer(deps.index.view);
    this.hooks = deps.hooks;
  }

  /**
   * A placer for one decision: with the scriptlet's hook bound to this instance when one is
   * installed — unless the request names a member: then Berth does not choose, and as in LXD the
   * scriptlet is not called (the member still goes through the filters).
   */
  private placerFor(instance: Instance, request: PlacementRequest, hook?: ChooseHook): Placer {
    if (request.target && "member" in request.target) return this.builtIn;
    const chosen = hook ?? this.hooks?.hookFor(instance);
    return chosen ? new Placer(this.deps.index.view, chosen) : this.builtIn;
  }

  schedulerConfig(): SchedulerConfig {
    return schedulerConfigOf(this.deps.config.get());
  }

  /**
   * Builds the scheduler's request; checks the target exists (404) and the project allows it (403).
   * Without a target, an instance placed through a group (volatile.cluster.group) is placed in that
   * group again, as LXD does (a group deleted since is no constraint any more).
   */
  async request(instance: Instance, reason: PlacementReason, target: string | undefined, exclude: string[] = []): Promise<PlacementRequest> {
    const project = this.deps.projects.get(instance.project);
    const allowed = restrictedGroups(project);
    // A root disk on a remote (shared) pool takes no space on the member: only local pools are checked.
    const poolName = rootDisk(instance.devices)?.pool;
    const remote = poolName !== undefined && this.deps.pools.isRemote(poolName);
    const resources = resourceRequest(instance);
    if (remote) resources.disk = 0;
    const request: PlacementRequest = {
      name: instance.name,
      project: instance.project,
      reason,
      architecture: instance.architecture,
      request: resources,
      pool: remote ? undefined : poolName,
      allowedGroups: allowed,
      excludeMembers: exclude,
    };
    if (target?.startsWith("@")) {
      const group = target.slice(1);
      this.deps.groups.get(group); // 404 when unknown
      if (allowed && !allowed.includes(group)) {
        throw forbidden(`Project "${instance.project}" may only use cluster groups ${allowed.join(", ")}; group "${group}" is not allowed`);
      }
      request.target = { group };
    } else if (target) {
      const member = await this.deps.members.get(target); // 404 when unknown
      if (allowed && !member.groups.some((g) => allowed.includes(g))) {
        throw forbidden(`Project "${instance.project}" may only use cluster groups ${allowed.join(", ")}; member "${target}" is in none of them`);
      }
      request.target = { member: target };
    } else {
      const recorded = instance.config[CLUSTER_GROUP_KEY];
      if (recorded && this.deps.groups.exists(recorded)) request.target = { group: recorded };
    }
    return request;
  }

  async place(input: PlacementRequestInput): Promise<PlacementTicket> {
    if (!this.deps.index.loaded) await this.deps.index.ready; // just after start, while stored instances load
    const { instance, reason, target, exclude } = input;
    const request = await this.request(instance, reason, target, exclude);
    const key = instanceKey(instance.project, instance.name);
    const outcome = await this.placerFor(instance, request).place(request, this.schedulerConfig(), seedFor(instance.project, instance.name), key);
    if (!outcome.ok) {
      const error = outcomeError(outcome);
      this.deps.onRefused?.(instance, reason, error);
      throw error;
    }
    const view = this.deps.index.view;
    const hooks = this.hooks;
    hooks?.pending(key, instance, outcome.member);
    const architecture = view.info(outcome.member)?.architecture ?? "x86_64";
    return this.ticket(outcome.member, architecture, instance, key, placedRequest(instance), (commit) => {
      if (commit) view.commit(key);
      else view.release(key);
      hooks?.pending(key, instance, null);
    });
  }

  reserveAt(instance: Instance, member: string, confine = false): PlacementTicket {
    const view = this.deps.index.view;
    const key = instanceKey(instance.project, instance.name);
    if (view.reservationOf(key) !== undefined) {
      throw conflict(`Instance "${instance.name}" in project "${instance.project}" is being placed by another operation`);
    }
    if (confine) {
      const outside = this.outsideGroups(instance, member);
      if (outside !== null) throw conflict(`Instance "${instance.name}" in project "${instance.project}" cannot go to cluster member "${member}": ${outside}`);
    }
    const request = placedRequest(instance);
    const problem = checkGrowth(view, member, request, this.schedulerConfig());
    if (problem !== null) {
      throw conflict(`Instance "${instance.name}" in project "${instance.project}" does not fit on cluster member "${member}": ${problem}`);
    }
    view.reserve(key, member, request);
    const architecture = view.info(member)?.architecture ?? instance.architecture;
    return this.ticket(member, architecture, instance, key, request, (commit) => {
      if (commit) view.commit(key);
      else view.release(key);
    });
  }

  /** Why `member` is outside the groups the instance must stay in (its placement group, its project's groups), or null. */
  private outsideGroups(instance: Instance, member: string): string | null {
    const groups = this.deps.index.view.info(member)?.groups ?? [];
    const recorded = instance.config[CLUSTER_GROUP_KEY];
    if (recorded && this.deps.groups.exists(recorded) && !groups.includes(recorded)) {
      return `it was placed through group "${recorded}" (volatile.cluster.group) and the member is not in that group (it is in ${groups.join(", ") || "none"})`;
    }
    const allowed = restrictedGroups(this.deps.projects.get(instance.project));
    if (allowed && !groups.some((g) => allowed.includes(g))) {
      return `project "${instance.project}" may only use cluster groups ${allowed.join(", ") || "(none)"} (restricted.cluster.groups) and the member is in ${groups.join(", ") || "none"}`;
    }
    return null;
  }

  reserveResize(current: Instance, next: Instance): PlacementTicket | null {
    const growth = growthOf(placedRequest(current), placedRequest(next));
    if (growth === null) return null;
    const view = this.deps.index.view;
    const problem = checkGrowth(view, current.location, growth, this.schedulerConfig());
    if (problem !== null) {
      throw conflict(`Instance "${current.name}" in project "${current.project}" cannot grow on cluster member "${current.location}": ${problem}`);
    }
    const key = `resize:${instanceKey(current.project, current.name)}`;
    view.reserve(key, current.location, growth);
    const architecture = view.info(current.location)?.architecture ?? current.architecture;
    return this.ticket(current.location, architecture, current, null, growth, () => view.release(key));
  }

  async ready(): Promise<void> {
    if (!this.deps.index.loaded) await this.deps.index.ready;
  }

  pendingOn(member: string): number {
    return this.outstanding.get(member)?.count ?? 0;
  }

  settled(member: string): Promise<void> {
    const entry = this.outstanding.get(member);
    if (!entry) return Promise.resolve();
    return new Promise((resolve) => entry.waiters.push(resolve));
  }

  /**
   * A ticket for `instance` whose settle runs once, counted as outstanding on its member until then.
   * `key` is the view reservation a refit replaces (null: a resize's growth, which never refits;
   * its confirm counts the instance as stored, plus the growth).
   */
  private ticket(
    member: string, architecture: string, instance: { project: string; name: string }, key: string | null, reserved: PlacedRequest,
    settle: (commit: boolean) => void,
  ): PlacementTicket {
    const who = { project: instance.project, name: instance.name };
    let entry = this.outstanding.get(member);
    if (!entry) this.outstanding.set(member, (entry = { count: 0, waiters: [] }));
    entry.count++;
    let settled = false;
    const done = (commit: boolean) => {
      if (settled) return;
      settled = true;
      settle(commit);
      const now = this.outstanding.get(member)!;
      if (--now.count === 0) {
        this.outstanding.delete(member);
        for (const wake of now.waiters) wake();
      }
    };
    const refit = (instance: Instance) => {
      if (settled || key === null) return;
      const next = placedRequest(instance);
      const growth = growthOf(reserved, next);
      if (growth === null && growthOf(next, reserved) === null) return; // asks the same
      const view = this.deps.index.view;
      if (growth !== null) {
        const problem = checkGrowth(view, member, growth, this.schedulerConfig());
        if (problem !== null) {
          throw conflict(`Instance "${instance.name}" in project "${instance.project}" no longer fits on cluster member "${member}": ${problem}`);
        }
      }
      view.release(key);
      view.reserve(key, member, next);
      reserved = next;
    };
    const confirm = (tx: Store) => confirmFit(tx, member, who, reserved, this.schedulerConfig(), {
      latest: (record) => this.deps.members.latest(record), countSelf: key === null,
    });
    return { location: member, architecture, commit: () => done(true), release: () => done(false), refit, confirm };
  }

  /** The dry run behind POST /1.0/scheduler/placement: the same decision, nothing reserved. */
  async query(instance: Instance, reason: PlacementReason, target: string | undefined, exclude: string[] = [], hook?: ChooseHook): Promise<QueryOutcome> {
    if (!this.deps.index.loaded) await this.deps.index.ready;
    const request = await this.request(instance, reason, target, exclude);
    return this.placerFor(instance, request, hook).query(request, this.schedulerConfig(), seedFor(instance.project, instance.name));
  }
}

/** Rejections as the API answers them: `rejected` = member → reason; `insufficient` = member →
 *  every resource it is short of (only members the resources filter dropped). */
export function rejectionFields(rejections: readonly Rejection[]): {
  rejected: Record<string, string>;
  insufficient: Record<string, InsufficientResource[]>;
} {
  const rejected: Record<string, string> = {};
  const insufficient: Record<string, InsufficientResource[]> = {};
  for (const r of rejections) {
    rejected[r.member] = r.reason.startsWith(`${r.filter}:`) ? r.reason : `${r.filter}: ${r.reason}`;
    if (r.insufficient) insufficient[r.member] = r.insufficient;
  }
  return { rejected, insufficient };
}

/** A failed outcome as the error a user sees. */
export function outcomeError(outcome: Exclude<QueryOutcome, { ok: true }> | { ok: false; code: "in-flight"; message: string }): BerthError {
  switch (outcome.code) {
    case "unschedulable": {
      const fields = rejectionFields(outcome.rejected);
      const lines = Object.entries(fields.rejected).slice(0, 50).map(([m, why]) => `${m}: ${why}`).join("; ");
      return conflict(`${outcome.message}. ${lines}`, fields);
    }
    case "rejected":
      return badRequest(`Placement rejected by the scriptlet: ${outcome.message}`);
    case "hook-failed":
      return badRequest(outcome.message);
    case "in-flight":
      return conflict(outcome.message);
  }
}
