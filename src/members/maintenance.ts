/**
 * POST /1.0/cluster/members/{name}/state: evacuate and restore as persisted operations, with the
 * rules that keep them apart (one at a time per member) and resume after a restart.
 */
import { badRequest, conflict } from "../domain/errors.ts";
import type { EvacuationMode } from "./evacuationRules.ts";
import type { OperationManager } from "../operations/manager.ts";
import type { MemberRecord, Operation } from "../domain/types.ts";
import { Evacuator, type EvacuationDeps, type PlanEntry } from "./evacuation.ts";
import { Restorer } from "./restore.ts";

export interface StateRequest {
  action: "evacuate" | "restore";
  mode?: string;
  dry_run?: boolean;
}

interface MaintenanceInput {
  member: string;
  mode?: string;
}

export type StateAnswer = { dryRun: true; plan: unknown } | { dryRun: false; operation: Operation };

export class Maintenance {
  readonly evacuator: Evacuator;
  readonly restorer: Restorer;
  /** member → the evacuate or restore running for it in this process. */
  private readonly active = new Map<string, { action: "evacuate" | "restore"; operation: string }>();

  constructor(private readonly deps: EvacuationDeps, private readonly operations: OperationManager) {
    this.evacuator = new Evacuator(deps);
    this.restorer = new Restorer(deps);
    operations.register("evacuate", (ctx, input) => {
      const { member, mode } = input as MaintenanceInput;
      return this.track(member, "evacuate", ctx.id, () => this.evacuator.run(ctx, member, mode as EvacuationMode | undefined));
    });
    operations.register("restore", (ctx, input) => {
      const { member, mode } = input as MaintenanceInput;
      return this.track(member, "restore", ctx.id, () => this.restorer.run(ctx, member, mode === "skip"));
    });
  }

  async request(member: string, req: StateRequest): Promise<StateAnswer> {
    const record = await this.deps.members.record(member);
    const busy = this.active.get(member);
    if (busy) {
      throw conflict(`Cluster member "${member}" is already being ${busy.action === "evacuate" ? "evacuated" : "restored"} (operation ${busy.operation || "starting"}); wait for it to finish`);
    }
    if (req.dry_run) return this.answer(member, record, req);
    // Claimed before anything is awaited, so a second request at the same moment gets its 409.
    const claim = { action: req.action, operation: "" };
    this.active.set(member, claim);
    let answer: StateAnswer | undefined;
    try {
      answer = await this.answer(member, record, req);
      return answer;
    } finally {
      // Still the claim: the run has not begun (track() replaces it) — hand it the operation's id,
      // or give the member back when the request was refused before any operation started.
      if (this.active.get(member) === claim) {
        if (answer && !answer.dryRun) this.active.set(member, { action: req.action, operation: answer.operation.id });
        else this.active.delete(member);
      }
    }
  }

  private async answer(member: string, record: MemberRecord, req: StateRequest): Promise<StateAnswer> {
    if (req.action === "evacuate") {
      if (req.mode === "skip") throw badRequest(`mode "skip" is not valid for evacuate (use auto, migrate, live-migrate, stop, force-stop or heal)`);
      if (record.state === "RESTORING") throw conflict(`Cluster member "${member}" is being restored; evacuate it once the restore is done`);
      const mode = req.mode as EvacuationMode | undefined;
      if (req.dry_run) return { dryRun: true, plan: { action: "evacuate", member, instances: await this.evacuator.dryRun(member, mode) } };
      await this.deps.members.setLifecycle(member, "EVACUATING");
      const description = mode === "heal" ? `Healing cluster member "${member}"` : `Evacuating cluster member "${member}"`;
      return { dryRun: false, operation: await this.start("evacuate", member, req.mode, description) };
    }
    if (req.mode !== undefined && req.mode !== "skip") throw badRequest(`mode "${req.mode}" is not valid for restore (only "skip")`);
    if (record.state === "EVACUATING") throw conflict(`Cluster member "${member}" is being evacuated; restore it once the evacuation is done`);
    if (record.state === "CREATED" && (req.mode === "skip" || isEmpty(await this.restorer.plan(member)))) {
      throw conflict(`Cluster member "${member}" is not evacuated, nothing to restore`);
    }
    if (req.dry_run) {
      if (req.mode === "skip") return { dryRun: true, plan: { action: "restore", member, mode: "skip", start: [], move_back: [] } };
      const plan = await this.restorer.plan(member);
      const entry = (i: { project: string; name: string; location: string }) => ({ project: i.project, name: i.name, from: i.location });
      return { dryRun: true, plan: { action: "restore", member, start: plan.start.map(entry), move_back: plan.moveBack.map(entry) } };
    }
    return { dryRun: false, operation: await this.start("restore", member, req.mode, `Restoring cluster member "${member}"`) };
  }

  private async start(kind: "evacuate" | "restore", member: string, mode: string | undefined, description: string): Promise<Operation> {
    const input: MaintenanceInput = mode === undefined ? { member } : { member, mode };
    // Cancellable (DELETE /1.0/operations/{id}): no new step begins, the ones in flight finish.
    return this.operations.start({ kind, description, resources: { cluster: [`/1.0/cluster/members/${member}`] }, input, mayCancel: true });
  }

  private async track<T>(member: string, action: "evacuate" | "restore", operation: string, fn: () => Promise<T>): Promise<T> {
    this.active.set(member, { action, operation });
    try {
      return await fn();
    } finally {
      if (this.active.get(member)?.operation === operation) this.active.delete(member);
    }
  }
}

/** Nothing for a restore of a member in service to do: nothing of its own to start, nothing elsewhere to bring home. */
const isEmpty = (plan: { start: unknown[]; moveBack: unknown[] }) => plan.start.length === 0 && plan.moveBack.length === 0;

export type { PlanEntry };
