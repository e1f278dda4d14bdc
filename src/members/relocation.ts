/**
 * Moving an instance (POST /1.0/instances/{name} {"migration": true}): the target is decided and
 * reserved before the request is answered, so "nothing fits" is an immediate 409; the move itself
 * is an operation that runs the one move procedure and can resume after a restart.
 */
import type { InstanceRecords } from "../cluster/instanceRecords.ts";
import type { InstancePlacement, PlacementTicket } from "../cluster/placementPort.ts";
import { badRequest, conflict } from "../domain/errors.ts";
import type { MoveProcedure } from "./moveProcedure.ts";
import type { OperationManager } from "../operations/manager.ts";
import type { Instance, Operation } from "../domain/types.ts";
import { CLUSTER_GROUP_KEY } from "../domain/instanceConfig.ts";

interface RelocateInput {
  project: string;
  name: string;
  from: string;
  target: string;
  /** What the user asked for: a member, a @group, or nothing (Berth chooses). */
  requested?: string;
  live: boolean;
  /** volatile.cluster.group once it lands: a group (moved through @group), null (moved out of its group to a named member), absent: unchanged. */
  group?: string | null;
}

export class Relocation {
  constructor(
    private readonly records: InstanceRecords,
    private readonly placement: InstancePlacement,
    private readonly moves: MoveProcedure,
    private readonly operations: OperationManager,
    /** The groups a member is in. */
    private readonly memberGroups: (member: string) => string[],
  ) {
    operations.register("relocate", async (ctx, input) => {
      // The reservation on the target, handed over in memory (none in a run resumed after a restart).
      const ticket = (ctx.attached as PlacementTicket | undefined) ?? null;
      return this.run(input as RelocateInput, ticket, (message) => ctx.progress({ progress: message }));
    });
  }

  async start(project: string, name: string, target: string | undefined, live: boolean): Promise<Operation> {
    const instance = await this.records.get(project, name);
    if (target && !target.startsWith("@") && target === instance.location) {
      throw badRequest(`Instance "${name}" is already on cluster member "${target}"`);
    }
    const ticket = await this.placement.place({ instance, reason: "relocation", target, exclude: [instance.location] });
    try {
      const group = this.groupAfter(instance, target, ticket.location);
      const input: RelocateInput = {
        project, name, from: instance.location, target: ticket.location, live,
        ...(target ? { requested: target } : {}), ...(group !== undefined ? { group } : {}),
      };
      return await this.operations.start({
        kind: "relocate",
        description: `Moving instance "${name}" to "${ticket.location}"`,
        resources: { instances: [`/1.0/instances/${name}${project === "default" ? "" : `?project=${project}`}`] },
        input,
        attached: ticket,
      });
    } catch (err) {
      ticket.release();
      throw err;
    }
  }

  /**
   * The instance's placement group after the move: a move through @group records that group (as a
   * create does); a move to a named member outside the recorded group drops it (the operator took
   * it out); otherwise it is unchanged (undefined).
   */
  private groupAfter(instance: Instance, target: string | undefined, landing: string): string | null | undefined {
    if (target?.startsWith("@")) return target.slice(1);
    const recorded = instance.config[CLUSTER_GROUP_KEY];
    if (target && recorded && !this.memberGroups(landing).includes(recorded)) return null;
    return undefined;
  }

  private async run(input: RelocateInput, ticket: PlacementTicket | null, report: (m: string) => void): Promise<Record<string, unknown>> {
    const { project, name, target, live, requested } = input;
    // Operations stored before `from` was recorded: the instance's place when the run starts.
    const from = input.from ?? (await this.records.find(project, name))?.location ?? "";
    const namedMember = requested !== undefined && !requested.startsWith("@");
    const result = await this.moves.run({
      project, name, from, target, ticket, live, purpose: "relocation", report,
      // A chosen target that stopped taking instances is chosen again; a member the user named is not.
      retarget: namedMember ? undefined : (instance, full) => this.placement.place({ instance, reason: "relocation", target: requested, exclude: [from, ...full] }),
    });
    if (result.outcome === "no-target") throw conflict(`Instance "${name}" could not be moved: ${result.why}`);
    if (result.outcome === "gone") return { from, to: null, status: null, note: result.why };
    if (input.group !== undefined) await this.records.setVolatile(project, name, { [CLUSTER_GROUP_KEY]: input.group });
    return { from, to: result.to, status: (await this.records.get(project, name)).status };
  }
}
