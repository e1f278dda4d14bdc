/**
 * Moving an instance (POST /1.0/instances/{name} {"migration": true}): the target is decided and
 * reserved before the request is answered, so "nothing fits" is an immediate 409; the move
 * itself (stop, move, start) is an operation that can resume after a restart.
 */
import type { InstanceService, PlacementTicket } from "../cluster/instanceService.ts";
import { progress } from "../domain/progress.ts";
import { badRequest } from "../domain/errors.ts";
import type { OperationContext, OperationManager } from "../operations/manager.ts";
import type { OperationRecord } from "../store/store.ts";

interface RelocateInput {
  project: string;
  name: string;
  target: string;
  live: boolean;
}

export class Relocation {
  /** operation id → the reservation on the target, held until the move is recorded. */
  private readonly tickets = new Map<string, PlacementTicket>();

  constructor(private readonly instances: InstanceService, private readonly operations: OperationManager) {
    operations.register("relocate", async (ctx, input) => {
      const ticket = this.tickets.get(ctx.id);
      this.tickets.delete(ctx.id);
      try {
        const result = await this.run(ctx, input as RelocateInput);
        ticket?.commit();
        return result;
      } catch (err) {
        ticket?.release();
        throw err;
      }
    });
  }

  async start(project: string, name: string, target: string | undefined, live: boolean): Promise<OperationRecord> {
    const instance = this.instances.get(project, name);
    if (target && !target.startsWith("@") && target === instance.location) {
      throw badRequest(`Instance "${name}" is already on cluster member "${target}"`);
    }
    const ticket = await this.instances.placement.place({ instance, reason: "relocation", target, exclude: [instance.location] });
    try {
      const input: RelocateInput = { project, name, target: ticket.location, live };
      const op = this.operations.start({
        kind: "relocate",
        description: `Moving instance "${name}" to "${ticket.location}"`,
        resources: { instances: [`/1.0/instances/${name}${project === "default" ? "" : `?project=${project}`}`] },
        input,
      });
      this.tickets.set(op.id, ticket); // the runner starts after this tick, and picks it up
      return op;
    } catch (err) {
      ticket.release();
      throw err;
    }
  }

  /** Stop (unless live), move, start again if it ran. Idempotent, for a resume after a restart. */
  private async run(ctx: OperationContext, input: RelocateInput): Promise<Record<string, unknown>> {
    const { project, name, target, live } = input;
    const instances = this.instances;
    const executor = instances.executor;
    const say = (message: string) => ctx.progress({ progress: message });
    let instance = instances.get(project, name);
    const from = instance.location;
    // The mark survives a crash between stop and start, so a resumed move still restarts it.
    const wasRunning = instance.status === "Running" || instance.config["volatile.last_state.power"] === "RUNNING";
    if (instance.location !== target) {
      if (wasRunning) instances.setVolatile(project, name, { "volatile.last_state.power": "RUNNING" });
      const doLive = live && executor.canLiveMigrate;
      try {
        if (instance.status === "Running" && !doLive) {
          say(progress.stopping(instance));
          await executor.stop(instance, { force: false, timeoutS: Number(instance.config["boot.host_shutdown_timeout"] ?? 30) });
        }
        say(progress.migrating(instance, target));
        await executor.move(instances.get(project, name), target, { live: doLive });
      } catch (err) {
        // Put it back as it was: on its member, running if it ran.
        const now = instances.get(project, name);
        if (wasRunning && now.status !== "Running") await executor.start(now).catch(() => undefined);
        instances.setVolatile(project, name, { "volatile.last_state.power": null });
        throw err;
      }
    }
    instance = instances.get(project, name);
    if (wasRunning && instance.status !== "Running") {
      say(progress.starting(instance));
      await executor.start(instance);
    }
    if (instance.config["volatile.last_state.power"]) instances.setVolatile(project, name, { "volatile.last_state.power": null });
    return { from, to: target, status: instances.get(project, name).status };
  }
}
