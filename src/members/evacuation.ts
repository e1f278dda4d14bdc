/**
 * Evacuation (DESIGN §5): plan every instance of a member (placements reserved in a fixed order,
 * so a dry run and the real run agree), then carry the plan out, max_parallel at a time, through
 * the one move procedure. Idempotent: a resumed or repeated evacuation only handles what is still
 * on the member.
 *
 * The member takes nothing new from the moment it is EVACUATING. Placements and moves towards it
 * that were decided before that moment are waited for, and whatever they leave on the member is
 * handled in another round: the evacuation ends only when nothing remains but what its rules leave.
 */
import type { ConfigService } from "../cluster/configService.ts";
import type { InstanceRecords } from "../cluster/instanceRecords.ts";
import type { InstanceLocks } from "../cluster/instanceLocks.ts";
import type { MemberService } from "../cluster/memberService.ts";
import type { InstancePlacement, PlacementTicket } from "../cluster/placementPort.ts";
import type { PoolService } from "../cluster/poolService.ts";
import { BerthError, toError } from "../domain/errors.ts";
import type { InstanceExecutor, MoveMethod } from "../domain/executor.ts";
import { progress } from "../domain/progress.ts";
import type { Instance, StorageDriver } from "../domain/types.ts";
import type { EventBus } from "../events/bus.ts";
import type { OperationContext } from "../operations/manager.ts";
import { chooseAction, type EvacuationMode, type EvacuationAction } from "./evacuationRules.ts";
import { runLimited } from "./limited.ts";
import type { MoveProcedure } from "./moveProcedure.ts";

export interface EvacuationDeps {
  members: MemberService;
  records: InstanceRecords;
  locks: InstanceLocks;
  placement: InstancePlacement;
  executor: InstanceExecutor;
  moves: MoveProcedure;
  pools: PoolService;
  config: ConfigService;
  bus: EventBus;
}

export interface PlanEntry {
  project: string;
  name: string;
  status: string;
  action: EvacuationAction;
  /** Where it goes (migrate), or null: it stays on the member. */
  target: string | null;
  /**
   * How it travels where that depends on the members' agents (lxd): "migrate" (LXD's migration
   * API carries its root filesystem) or "recreate" (created afresh from its image on the target).
   */
  method?: MoveMethod;
  why: string;
  /** It was to move, but no member can take it: it is stopped in place instead (not what its rules asked for). */
  no_target?: true;
}

export interface InstanceOutcome extends PlanEntry {
  /**
   * moved; stopped (in place); stayed (heal: left on the dead member); failed (left where it was,
   * with the error); gone (deleted or moved away meanwhile); cancelled (the operation was cancelled
   * before its step began: left as it was).
   */
  outcome: "moved" | "stopped" | "stayed" | "failed" | "gone" | "cancelled";
  error?: string;
}

interface PlannedStep {
  entry: PlanEntry;
  instance: Instance;
  ticket: PlacementTicket | null;
  /** The placement failed for another reason than "nothing fits" (the scriptlet refused or broke). */
  failure: string | null;
}

const key = (i: { project: string; name: string }) => `${i.project}/${i.name}`;

export class Evacuator {
  constructor(private readonly deps: EvacuationDeps) {}

  private poolDriver = (pool: string): StorageDriver | undefined => {
    try {
      return this.deps.pools.get(pool).driver;
    } catch {
      return undefined;
    }
  };

  /** A placement off `member` (and off members a move found full, `full`). */
  private placeElsewhere(instance: Instance, member: string, full: string[] = []): Promise<PlacementTicket> {
    return this.deps.placement.place({ instance, reason: "evacuation", exclude: [member, ...full] });
  }

  /**
   * Decides what happens to each instance, reserving each target in turn so later instances see
   * earlier ones. The caller commits (real run) or releases (dry run) the tickets.
   */
  async plan(member: string, mode: EvacuationMode | undefined, instances: Instance[]): Promise<PlannedStep[]> {
    const canLive = this.deps.moves.canLiveMigrate;
    const steps: PlannedStep[] = [];
    try {
      for (const instance of instances) {
        const choice = chooseAction(instance, mode, this.poolDriver, canLive);
        const entry: PlanEntry = { project: instance.project, name: instance.name, status: instance.status, action: choice.action, target: null, why: choice.why };
        let ticket: PlacementTicket | null = null;
        let failure: string | null = null;
        if (choice.action === "migrate" || choice.action === "live-migrate" || choice.action === "heal") {
          try {
            ticket = await this.placeElsewhere(instance, member);
            entry.target = ticket.location;
            const method = this.deps.executor.moveMethod?.(instance, member, ticket.location);
            // A heal asks nothing of the dead member: the target always starts it afresh.
            if (method) entry.method = choice.action === "heal" ? "recreate" : method;
          } catch (err) {
            if (!(err instanceof BerthError)) throw err;
            if (err.status === 409 && choice.action === "heal") {
              entry.action = "stay"; // nothing can be stopped on a dead member
              entry.why = `${choice.why}; no member can take it (${err.message}), so it stays`;
            } else if (err.status === 409) {
              entry.action = "stop";
              entry.no_target = true;
              entry.why = `${choice.why}; no member can take it (${err.message}), so it is stopped in place`;
            } else {
              // The scriptlet refused, threw or timed out: never stop an instance for that.
              failure = err.message;
              entry.why = `${choice.why}; placement failed, so it is left running where it is: ${err.message}`;
            }
          }
        }
        steps.push({ entry, instance, ticket, failure });
      }
    } catch (err) {
      for (const step of steps) step.ticket?.release();
      throw err;
    }
    return steps;
  }

  async dryRun(member: string, mode: EvacuationMode | undefined): Promise<PlanEntry[]> {
    const steps = await this.plan(member, mode, await this.deps.records.list({ location: member }));
    for (const step of steps) step.ticket?.release();
    return steps.map((s) => s.entry);
  }

  /** The operation body: rounds of plan and execute until nothing is left to do, then EVACUATED. */
  async run(ctx: OperationContext, member: string, mode: EvacuationMode | undefined): Promise<Record<string, unknown>> {
    const { members, config, bus, records, placement } = this.deps;
    if ((await members.record(member)).state !== "EVACUATING") await members.setLifecycle(member, "EVACUATING");
    const outcomes = new Map<string, InstanceOutcome>();
    let done = 0;
    let total = 0;
    const report = (message: string) => ctx.progress({ evacuation_progress: message, done, total });
    try {
      for (const outcome of await this.finishInterrupted(member)) outcomes.set(key(outcome), outcome);
      done = total = outcomes.size;
      for (let round = 0; ; round++) {
        await placement.settled(member); // placements and moves decided before EVACUATING land first
        const left = (await records.list({ location: member })).filter((i) => !isLeftInPlace(outcomes.get(key(i))));
        if (ctx.signal.aborted || (left.length === 0 && round > 0)) break;
        const steps = await this.plan(member, mode, left);
        total += steps.length;
        report(round === 0 ? `Evacuating ${total} instance(s) from "${member}"` : `Evacuating ${steps.length} more instance(s) that arrived on "${member}"`);
        if (steps.length === 0) break;
        const parallel = config.get()[mode === "heal" ? "cluster.healing.max_parallel" : "cluster.evacuate.max_parallel"];
        await runLimited(steps, parallel, async (step) => {
          // Cancelled: no new step begins (the ones in flight finish); the rest is left as it is.
          const cancelled = ctx.signal.aborted;
          if (cancelled) step.ticket?.release();
          const outcome: InstanceOutcome = cancelled
            ? { ...step.entry, outcome: "cancelled", why: `${step.entry.why}; the operation was cancelled before this step began, so it was left as it was` }
            : await this.carryOut(step, member, report);
          outcomes.set(key(outcome), outcome);
          done++;
          if (!cancelled) {
            report(outcome.outcome === "failed"
              ? `Failed on "${step.instance.name}" in project "${step.instance.project}": ${outcome.error}`
              : `Done with "${step.instance.name}" in project "${step.instance.project}"`);
          }
        });
      }
    } finally {
      if ((await members.find(member))?.state === "EVACUATING") await members.setLifecycle(member, "EVACUATED");
    }
    const list = [...outcomes.values()].sort((a, b) => key(a).localeCompare(key(b)));
    const count = (o: InstanceOutcome["outcome"]) => list.filter((x) => x.outcome === o).length;
    const failed = list.filter((o) => o.outcome === "failed");
    const unplaced = list.filter((o) => o.outcome === "stopped" && o.no_target);
    const result = {
      instances: list, done, total, moved: count("moved"), stopped: count("stopped"), stayed: count("stayed"), gone: count("gone"), failed: failed.length,
      cancelled: count("cancelled"), stopped_instead_of_moved: unplaced.length,
      evacuation_progress: ctx.signal.aborted
        ? `Cancelled ${mode === "heal" ? "the heal" : "the evacuation"} of "${member}" (${count("cancelled")} instance(s) left as they were)`
        : `${mode === "heal" ? "Healed" : "Evacuated"} "${member}"${unplaced.length === 0 ? "" : `: ${unplaced.length} instance(s) stopped instead of moved, as no member could take them (${unplaced.map(key).join(", ")})`}`,
    };
    if (mode === "heal") {
      bus.lifecycle("cluster-member-healed", `/1.0/cluster/members/${member}`, { moved: result.moved, stayed: result.stayed, failed: result.failed });
    } else {
      bus.lifecycle("cluster-member-evacuated", `/1.0/cluster/members/${member}`, { instances: total });
    }
    if (failed.length > 0) {
      const names = failed.map((f) => `${key(f)}: ${f.error}`).join("; ");
      throw new BerthError(500, `${failed.length} of ${total} instance(s) could not be evacuated: ${names}`, result);
    }
    return result;
  }

  /**
   * A resumed run: instances this evacuation moved off the member but had not started again when
   * the service died (moved, still marked as having run) are started now; the plan, which lists
   * only what is still on the member, would miss them.
   */
  private async finishInterrupted(member: string): Promise<InstanceOutcome[]> {
    const outcomes: InstanceOutcome[] = [];
    for (const instance of await this.deps.records.list()) {
      const c = instance.config;
      if (instance.location === member || c["volatile.evacuate.origin"] !== member || c["volatile.last_state.power"] !== "RUNNING") continue;
      const entry: PlanEntry = {
        project: instance.project, name: instance.name, status: instance.status, action: "migrate", target: instance.location,
        why: "moved before the service restarted; started again on its new member",
      };
      try {
        const result = await this.deps.moves.finish(instance.project, instance.name);
        outcomes.push({ ...entry, outcome: result.outcome === "gone" ? "gone" : "moved" });
      } catch (thrown) {
        outcomes.push({ ...entry, outcome: "failed", error: toError(thrown).message });
      }
    }
    return outcomes;
  }

  /** One instance: migrate (through the move procedure) or stop in place. A failure leaves it as it was. */
  private async carryOut(step: PlannedStep, member: string, report: (m: string) => void): Promise<InstanceOutcome> {
    const entry = step.entry;
    if (step.failure !== null) return { ...entry, outcome: "failed", error: step.failure };
    if (entry.action === "stop" || entry.action === "force-stop") return this.stopInPlace(entry, member, report);
    if (entry.action === "stay") return { ...entry, outcome: "stayed" };
    try {
      const result = await this.deps.moves.run({
        project: entry.project, name: entry.name, from: member, target: entry.target!, ticket: step.ticket,
        live: entry.action === "live-migrate", purpose: entry.action === "heal" ? "heal" : "evacuation", report,
        retarget: (instance, full) => this.placeElsewhere(instance, member, full),
      });
      step.ticket = null;
      if (result.outcome === "moved") return { ...entry, target: result.to, outcome: "moved" };
      if (result.outcome === "gone") return { ...entry, outcome: "gone", why: `${entry.why}; ${result.why}` };
      if (entry.action === "heal") return { ...entry, action: "stay", target: null, outcome: "stayed", why: `${entry.why}; ${result.why}, so it stays` };
      return this.stopInPlace({ ...entry, action: "stop", target: null, no_target: true, why: `${entry.why}; ${result.why}, so it is stopped in place` }, member, report);
    } catch (thrown) {
      step.ticket?.release();
      return { ...entry, outcome: "failed", error: toError(thrown).message };
    }
  }

  private async stopInPlace(entry: PlanEntry, member: string, report: (m: string) => void): Promise<InstanceOutcome> {
    const { records, locks, executor } = this.deps;
    try {
      return await locks.with(entry.project, entry.name, async () => {
        const instance = await records.find(entry.project, entry.name);
        if (!instance) return { ...entry, outcome: "gone" as const, why: `${entry.why}; deleted meanwhile` };
        if (instance.location !== member) return { ...entry, outcome: "gone" as const, why: `${entry.why}; moved to "${instance.location}" meanwhile` };
        if (instance.status === "Running") {
          await records.setVolatile(entry.project, entry.name, { "volatile.last_state.power": "RUNNING" });
          report(progress.stopping(instance));
          await executor.stop(instance, { force: entry.action === "force-stop", timeoutS: Number(instance.config["boot.host_shutdown_timeout"] ?? 30) });
        }
        return { ...entry, outcome: "stopped" as const };
      });
    } catch (thrown) {
      return { ...entry, outcome: "failed", error: toError(thrown).message };
    }
  }
}

/** Left on the member by this run's rules (stopped in place) or failures: not planned again. */
function isLeftInPlace(outcome: InstanceOutcome | undefined): boolean {
  return outcome !== undefined && (outcome.outcome === "stopped" || outcome.outcome === "stayed" || outcome.outcome === "failed");
}
