/**
 * Restore (DESIGN §5): start the instances the evacuation stopped on the member, move back every
 * instance whose volatile.evacuate.origin is the member (through the one move procedure), then
 * mark it CREATED. Idempotent. When some instances cannot come back, the member is still CREATED if
 * any did (they run there), the operation fails naming the others, and restore may run again on
 * the member while instances marked with its origin are elsewhere (it then only moves them back).
 */
import type { ConfigService } from "../cluster/configService.ts";
import type { InstanceLocks } from "../cluster/instanceLocks.ts";
import type { InstanceRecords } from "../cluster/instanceRecords.ts";
import type { MemberService } from "../cluster/memberService.ts";
import { BerthError, toError } from "../domain/errors.ts";
import type { InstanceExecutor } from "../domain/executor.ts";
import { progress } from "../domain/progress.ts";
import type { Instance } from "../domain/types.ts";
import type { EventBus } from "../events/bus.ts";
import type { OperationContext } from "../operations/manager.ts";
import { runLimited } from "./limited.ts";
import type { MoveProcedure } from "./moveProcedure.ts";

export interface RestoreOutcome {
  project: string;
  name: string;
  action: "start" | "move-back";
  from: string;
  /** cancelled: the operation was cancelled before this instance's step began; it was left where it was. */
  outcome: "started" | "moved" | "failed" | "gone" | "cancelled";
  error?: string;
}

export interface RestoreDeps {
  members: MemberService;
  records: InstanceRecords;
  locks: InstanceLocks;
  executor: InstanceExecutor;
  moves: MoveProcedure;
  config: ConfigService;
  bus: EventBus;
}

const POWER = "volatile.last_state.power";

export class Restorer {
  constructor(private readonly deps: RestoreDeps) {}

  /** What a restore would do, without doing it. */
  async plan(member: string): Promise<{ start: Instance[]; moveBack: Instance[] }> {
    const { records } = this.deps;
    const start = (await records.list({ location: member })).filter((i) => i.config[POWER] === "RUNNING");
    const moveBack = (await records.list()).filter((i) => i.config["volatile.evacuate.origin"] === member && i.location !== member);
    return { start, moveBack };
  }

  async run(ctx: OperationContext, member: string, skip: boolean): Promise<Record<string, unknown>> {
    const { members, bus } = this.deps;
    if ((await members.find(member))?.state === "CREATED") return this.moveBackOnly(ctx, member);
    await members.setLifecycle(member, "RESTORING");
    try {
      if (skip) return await this.skip(member);
      return await this.restore(ctx, member);
    } finally {
      // Whatever ended the run, the member never stays RESTORING without an operation.
      if ((await members.find(member))?.state === "RESTORING") {
        await members.setLifecycle(member, "EVACUATED");
        bus.lifecycle("cluster-member-evacuated", `/1.0/cluster/members/${member}`, { restore: "incomplete" });
      }
    }
  }

  /**
   * A restore of a member in service that a partial (failed or cancelled) restore left with
   * instances elsewhere, or with instances of its own still to start: finishes that; the member
   * stays in service whatever happens.
   */
  private async moveBackOnly(ctx: OperationContext, member: string): Promise<Record<string, unknown>> {
    return this.restore(ctx, member);
  }

  /** Nothing is started or moved; the marks the evacuation left would otherwise make a later evacuation start instances the operator chose to leave stopped. */
  private async skip(member: string): Promise<Record<string, unknown>> {
    const { members, records, bus } = this.deps;
    for (const instance of await records.list({ location: member })) {
      if (instance.config[POWER]) await records.setVolatile(instance.project, instance.name, { [POWER]: null });
    }
    await members.setLifecycle(member, "CREATED");
    bus.lifecycle("cluster-member-restored", `/1.0/cluster/members/${member}`, { mode: "skip" });
    return { instances: [], done: 0, total: 0 };
  }

  private async restore(ctx: OperationContext, member: string): Promise<Record<string, unknown>> {
    const { members, config, bus, moves } = this.deps;
    const planned = await this.plan(member);
    const { start, moveBack } = planned;
    const total = start.length + moveBack.length;
    let done = 0;
    const outcomes: RestoreOutcome[] = [];
    const report = (message: string) => ctx.progress({ evacuation_progress: message, done, total });
    report(`Restoring ${total} instance(s) to "${member}"`);
    const parallel = config.get()["cluster.evacuate.max_parallel"];
    const outcome = (i: Instance, action: RestoreOutcome["action"], from: string, o: RestoreOutcome["outcome"], error?: string) => {
      outcomes.push({ project: i.project, name: i.name, action, from, outcome: o, ...(error ? { error } : {}) });
      done++;
      if (o !== "cancelled") report(o === "failed" ? `Failed on "${i.name}" in project "${i.project}": ${error}` : `Done with "${i.name}" in project "${i.project}"`);
    };
    // Cancelled (DELETE /1.0/operations/{id}): no new step begins; the ones in flight finish.
    const cancelled = (i: Instance, action: RestoreOutcome["action"]) => {
      if (!ctx.signal.aborted) return false;
      outcome(i, action, i.location, "cancelled");
      return true;
    };

    await runLimited(start, parallel, async (instance) => {
      if (cancelled(instance, "start")) return;
      try {
        outcome(instance, "start", member, await this.startHere(instance, member, report));
      } catch (err) {
        outcome(instance, "start", member, "failed", toError(err).message);
      }
    });
    await runLimited(moveBack, parallel, async (instance) => {
      if (cancelled(instance, "move-back")) return;
      try {
        const result = await moves.run({
          project: instance.project, name: instance.name, from: instance.location, target: member, ticket: null,
          live: false, purpose: "restore", report,
        });
        outcome(instance, "move-back", instance.location, result.outcome === "moved" ? "moved" : "gone");
      } catch (err) {
        outcome(instance, "move-back", instance.location, "failed", toError(err).message);
      }
    });

    outcomes.sort((a, b) => `${a.project}/${a.name}`.localeCompare(`${b.project}/${b.name}`));
    const failed = outcomes.filter((o) => o.outcome === "failed");
    const result = { instances: outcomes, done, total, failed: failed.length, cancelled: outcomes.filter((o) => o.outcome === "cancelled").length };
    if (failed.length > 0 || ctx.signal.aborted) {
      const message = `${failed.length} of ${total} instance(s) could not be restored: ${failed.map((f) => `${f.project}/${f.name}: ${f.error}`).join("; ")}`;
      // Something came back and runs here: the member is in service again (an evacuated member runs
      // nothing). What failed stays where it is, still marked with its origin, and a later restore
      // of this member brings it home. When nothing came back, run() puts it back to EVACUATED.
      // A cancelled restore is the same: only what came back puts the member in service.
      if (outcomes.some((o) => o.outcome === "started" || o.outcome === "moved")) {
        await members.setLifecycle(member, "CREATED");
        bus.lifecycle("cluster-member-restored", `/1.0/cluster/members/${member}`, { instances: total, failed: failed.length, cancelled: result.cancelled });
      }
      if (failed.length > 0) throw new BerthError(500, message, result);
      return { ...result, evacuation_progress: `Cancelled the restore of "${member}" (${result.cancelled} instance(s) left where they were)` };
    }
    await members.setLifecycle(member, "CREATED");
    bus.lifecycle("cluster-member-restored", `/1.0/cluster/members/${member}`, { instances: total });
    return { ...result, evacuation_progress: `Restored "${member}"` };
  }

  /** An instance the evacuation stopped in place: started again, under its lock, if it is still here and marked. */
  private startHere(instance: Instance, member: string, report: (m: string) => void): Promise<RestoreOutcome["outcome"]> {
    const { records, locks, executor } = this.deps;
    return locks.with(instance.project, instance.name, async () => {
      const now = await records.find(instance.project, instance.name);
      if (!now || now.location !== member || now.config[POWER] !== "RUNNING") return "gone";
      if (now.status !== "Running") {
        report(progress.starting(now));
        await executor.start(now);
      }
      await records.setVolatile(now.project, now.name, { [POWER]: null });
      return "started";
    });
  }
}
