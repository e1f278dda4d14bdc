/**
 * Evacuation (DESIGN §5): plan every instance of a member (placements reserved in a fixed order,
 * so a dry run and the real run agree), then carry the plan out, max_parallel at a time.
 * Idempotent: a resumed or repeated evacuation only handles what is still on the member.
 */
import type { ConfigService } from "../cluster/configService.ts";
import type { InstancePlacement, InstanceService, PlacementTicket } from "../cluster/instanceService.ts";
import type { MemberService } from "../cluster/memberService.ts";
import type { PoolService } from "../cluster/poolService.ts";
import { BerthError, toError } from "../domain/errors.ts";
import type { EvacuateMode } from "../domain/instanceConfig.ts";
import type { Instance, StorageDriver } from "../domain/types.ts";
import type { EventBus } from "../events/bus.ts";
import type { OperationContext } from "../operations/manager.ts";
import { chooseAction, type EvacuationAction } from "./evacuationRules.ts";
import { progress } from "../domain/progress.ts";
import { runLimited } from "./limited.ts";

export interface EvacuationDeps {
  members: MemberService;
  instances: InstanceService;
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
  why: string;
}

export interface InstanceOutcome extends PlanEntry {
  outcome: "moved" | "stopped" | "failed";
  error?: string;
}

interface PlannedStep {
  entry: PlanEntry;
  instance: Instance;
  ticket: PlacementTicket | null;
}

const key = (i: { project: string; name: string }) => `${i.project}/${i.name}`;

export class Evacuator {
  constructor(private readonly deps: EvacuationDeps) {}

  private get placement(): InstancePlacement {
    return this.deps.instances.placement;
  }

  private poolDriver = (pool: string): StorageDriver | undefined => {
    try {
      return this.deps.pools.get(pool).driver;
    } catch {
      return undefined;
    }
  };

  /**
   * Decides what happens to every instance on the member, reserving each target in turn so later
   * instances see earlier ones. The caller commits (real run) or releases (dry run) the tickets.
   */
  async plan(member: string, mode: EvacuateMode | undefined): Promise<PlannedStep[]> {
    const canLive = this.deps.instances.executor.canLiveMigrate;
    const steps: PlannedStep[] = [];
    try {
      for (const instance of this.deps.instances.list({ location: member })) {
        const choice = chooseAction(instance, mode, this.poolDriver, canLive);
        const entry: PlanEntry = { project: instance.project, name: instance.name, status: instance.status, action: choice.action, target: null, why: choice.why };
        let ticket: PlacementTicket | null = null;
        if (choice.action === "migrate" || choice.action === "live-migrate") {
          try {
            ticket = await this.placement.place({ instance, reason: "evacuation", exclude: [member] });
            entry.target = ticket.location;
          } catch (err) {
            if (!(err instanceof BerthError)) throw err;
            entry.action = "stop";
            entry.why = `${choice.why}; no member can take it (${err.message}), so it is stopped in place`;
          }
        }
        steps.push({ entry, instance, ticket });
      }
    } catch (err) {
      for (const step of steps) step.ticket?.release();
      throw err;
    }
    return steps;
  }

  async dryRun(member: string, mode: EvacuateMode | undefined): Promise<PlanEntry[]> {
    const steps = await this.plan(member, mode);
    for (const step of steps) step.ticket?.release();
    return steps.map((s) => s.entry);
  }

  /** The operation body: plan, execute, end EVACUATED. */
  async run(ctx: OperationContext, member: string, mode: EvacuateMode | undefined): Promise<Record<string, unknown>> {
    const { members, config, bus } = this.deps;
    if (members.record(member).state !== "EVACUATING") members.setLifecycle(member, "EVACUATING");
    const steps = await this.plan(member, mode);
    const outcomes: InstanceOutcome[] = await this.finishInterrupted(member);
    const total = steps.length + outcomes.length;
    let done = outcomes.length;
    ctx.progress({ evacuation_progress: `Evacuating ${total} instance(s) from "${member}"`, done, total });
    const report = (message: string) => {
      ctx.progress({ evacuation_progress: message, done, total });
    };
    await runLimited(steps, config.get()["cluster.evacuate.max_parallel"], async (step) => {
      const outcome = await this.carryOut(step, report);
      outcomes.push(outcome);
      done++;
      report(outcome.outcome === "failed"
        ? `Failed on "${step.instance.name}" in project "${step.instance.project}": ${outcome.error}`
        : `Done with "${step.instance.name}" in project "${step.instance.project}"`);
    });
    members.setLifecycle(member, "EVACUATED");
    bus.lifecycle("cluster-member-evacuated", `/1.0/cluster/members/${member}`, { instances: total });
    outcomes.sort((a, b) => key(a).localeCompare(key(b)));
    const failed = outcomes.filter((o) => o.outcome === "failed");
    const result = { instances: outcomes, done, total, failed: failed.length, evacuation_progress: `Evacuated "${member}"` };
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
    const { instances } = this.deps;
    const outcomes: InstanceOutcome[] = [];
    for (const instance of instances.list()) {
      const c = instance.config;
      if (instance.location === member || c["volatile.evacuate.origin"] !== member || c["volatile.last_state.power"] !== "RUNNING") continue;
      const entry: PlanEntry = {
        project: instance.project, name: instance.name, status: instance.status, action: "migrate", target: instance.location,
        why: "moved before the service restarted; started again on its new member",
      };
      try {
        if (instance.status !== "Running") await instances.executor.start(instance);
        instances.setVolatile(instance.project, instance.name, { "volatile.last_state.power": null });
        outcomes.push({ ...entry, outcome: "moved" });
      } catch (thrown) {
        outcomes.push({ ...entry, outcome: "failed", error: toError(thrown).message });
      }
    }
    return outcomes;
  }

  /** One instance: migrate (stop, move, start) or stop. A failure leaves it as it was. */
  private async carryOut(step: PlannedStep, report: (m: string) => void): Promise<InstanceOutcome> {
    const { instances } = this.deps;
    const executor = instances.executor;
    const { entry } = step;
    let instance = instances.get(entry.project, entry.name);
    // A resumed run may find an instance we stopped before the crash: the mark says it ran.
    const wasRunning = instance.status === "Running" || instance.config["volatile.last_state.power"] === "RUNNING";
    const timeoutS = Number(instance.config["boot.host_shutdown_timeout"] ?? 30);
    try {
      if (entry.action === "stop" || entry.action === "force-stop") {
        if (wasRunning) instances.setVolatile(entry.project, entry.name, { "volatile.last_state.power": "RUNNING" });
        if (instance.status === "Running") {
          report(progress.stopping(instance));
          await executor.stop(instance, { force: entry.action === "force-stop", timeoutS });
        }
        return { ...entry, outcome: "stopped" };
      }
      const target = entry.target!;
      const origin = instance.config["volatile.evacuate.origin"];
      instance = instances.setVolatile(entry.project, entry.name, {
        "volatile.evacuate.origin": origin ?? instance.location,
        ...(wasRunning ? { "volatile.last_state.power": "RUNNING" } : {}),
      });
      const live = entry.action === "live-migrate";
      if (instance.status === "Running" && !live) {
        report(progress.stopping(instance));
        await executor.stop(instance, { force: false, timeoutS });
      }
      report(progress.migrating(instance, target));
      await executor.move(instances.get(entry.project, entry.name), target, { live });
      step.ticket?.commit();
      step.ticket = null;
      if (wasRunning && instances.get(entry.project, entry.name).status !== "Running") {
        report(progress.starting(instance));
        await executor.start(instances.get(entry.project, entry.name));
      }
      instances.setVolatile(entry.project, entry.name, { "volatile.last_state.power": null });
      return { ...entry, outcome: "moved" };
    } catch (thrown) {
      step.ticket?.release();
      const error = toError(thrown).message;
      await this.putBack(entry, wasRunning);
      return { ...entry, outcome: "failed", error };
    }
  }

  /** After a failure: if it still sits on its member, stopped, but was running, start it again. */
  private async putBack(entry: PlanEntry, wasRunning: boolean): Promise<void> {
    const { instances } = this.deps;
    try {
      const now = instances.get(entry.project, entry.name);
      if (wasRunning && now.status !== "Running" && entry.action !== "stop" && entry.action !== "force-stop") {
        await instances.executor.start(now);
      }
      if (now.location !== entry.target) {
        const cleanup: Record<string, null> = { "volatile.last_state.power": null };
        if (now.config["volatile.evacuate.origin"] === now.location) cleanup["volatile.evacuate.origin"] = null;
        instances.setVolatile(entry.project, entry.name, cleanup);
      }
    } catch {
      // Left as it is; the outcome already carries the original error.
    }
  }
}
