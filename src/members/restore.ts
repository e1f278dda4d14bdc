/**
 * Restore (DESIGN §5): start the instances the evacuation stopped on the member, move back every
 * instance whose volatile.evacuate.origin is the member, then mark it CREATED. Idempotent.
 */
import type { InstanceService } from "../cluster/instanceService.ts";
import type { MemberService } from "../cluster/memberService.ts";
import { BerthError, toError } from "../domain/errors.ts";
import type { Instance } from "../domain/types.ts";
import type { EventBus } from "../events/bus.ts";
import type { OperationContext } from "../operations/manager.ts";
import type { ConfigService } from "../cluster/configService.ts";
import { progress } from "../domain/progress.ts";
import { runLimited } from "./limited.ts";

export interface RestoreOutcome {
  project: string;
  name: string;
  action: "start" | "move-back";
  from: string;
  outcome: "started" | "moved" | "failed";
  error?: string;
}

export class Restorer {
  constructor(private readonly deps: { members: MemberService; instances: InstanceService; config: ConfigService; bus: EventBus }) {}

  /** What a restore would do, without doing it. */
  plan(member: string): { start: Instance[]; moveBack: Instance[] } {
    const { instances } = this.deps;
    const start = instances.list({ location: member }).filter((i) => i.config["volatile.last_state.power"] === "RUNNING");
    const moveBack = instances.list().filter((i) => i.config["volatile.evacuate.origin"] === member && i.location !== member);
    return { start, moveBack };
  }

  async run(ctx: OperationContext, member: string, skip: boolean): Promise<Record<string, unknown>> {
    const { members, instances, config, bus } = this.deps;
    members.setLifecycle(member, "RESTORING");
    if (skip) {
      // Nothing is started or moved; the marks the evacuation left would otherwise make a later
      // evacuation start instances the operator chose to leave stopped.
      for (const instance of instances.list({ location: member })) {
        if (instance.config["volatile.last_state.power"]) instances.setVolatile(instance.project, instance.name, { "volatile.last_state.power": null });
      }
      members.setLifecycle(member, "CREATED");
      bus.lifecycle("cluster-member-restored", `/1.0/cluster/members/${member}`, { mode: "skip" });
      return { instances: [], done: 0, total: 0 };
    }
    const { start, moveBack } = this.plan(member);
    const total = start.length + moveBack.length;
    let done = 0;
    const outcomes: RestoreOutcome[] = [];
    const report = (message: string) => ctx.progress({ evacuation_progress: message, done, total });
    report(`Restoring ${total} instance(s) to "${member}"`);
    const executor = instances.executor;

    await runLimited(start, config.get()["cluster.evacuate.max_parallel"], async (instance) => {
      try {
        report(progress.starting(instance));
        if (instance.status !== "Running") await executor.start(instance);
        instances.setVolatile(instance.project, instance.name, { "volatile.last_state.power": null });
        outcomes.push({ project: instance.project, name: instance.name, action: "start", from: member, outcome: "started" });
      } catch (err) {
        outcomes.push({ project: instance.project, name: instance.name, action: "start", from: member, outcome: "failed", error: toError(err).message });
      }
      done++;
      report(`Done with "${instance.name}" in project "${instance.project}"`);
    });

    await runLimited(moveBack, config.get()["cluster.evacuate.max_parallel"], async (instance) => {
      const from = instance.location;
      try {
        const current = instances.get(instance.project, instance.name);
        // The power mark outlives a crash between stop and start: a resumed run still starts it
        // (here if it was not moved yet, through the start list above if it was).
        const wasRunning = current.status === "Running" || current.config["volatile.last_state.power"] === "RUNNING";
        if (current.status === "Running") {
          instances.setVolatile(instance.project, instance.name, { "volatile.last_state.power": "RUNNING" });
          report(progress.stopping(current));
          await executor.stop(current, { force: false, timeoutS: Number(current.config["boot.host_shutdown_timeout"] ?? 30) });
        }
        report(progress.migrating(current, member));
        await executor.move(instances.get(instance.project, instance.name), member, { live: false });
        instances.setVolatile(instance.project, instance.name, { "volatile.evacuate.origin": null });
        if (wasRunning) {
          report(progress.starting(current));
          await executor.start(instances.get(instance.project, instance.name));
        }
        instances.setVolatile(instance.project, instance.name, { "volatile.last_state.power": null });
        outcomes.push({ project: instance.project, name: instance.name, action: "move-back", from, outcome: "moved" });
      } catch (err) {
        outcomes.push({ project: instance.project, name: instance.name, action: "move-back", from, outcome: "failed", error: toError(err).message });
      }
      done++;
      report(`Done with "${instance.name}" in project "${instance.project}"`);
    });

    outcomes.sort((a, b) => `${a.project}/${a.name}`.localeCompare(`${b.project}/${b.name}`));
    const failed = outcomes.filter((o) => o.outcome === "failed");
    const result = { instances: outcomes, done, total, failed: failed.length };
    if (failed.length > 0) {
      // Not every instance is back: the member stays evacuated so restore can be run again.
      members.setLifecycle(member, "EVACUATED");
      throw new BerthError(500, `${failed.length} of ${total} instance(s) could not be restored: ${failed.map((f) => `${f.project}/${f.name}: ${f.error}`).join("; ")}`, result);
    }
    members.setLifecycle(member, "CREATED");
    bus.lifecycle("cluster-member-restored", `/1.0/cluster/members/${member}`, { instances: total });
    return { ...result, evacuation_progress: `Restored "${member}"` };
  }
}
