/**
 * The one move procedure (stop → move → start, with the volatile.* marks) that evacuation,
 * restore and relocation all call. Each run holds the instance's lock and first looks at where
 * things really are, so a run resumed after a crash takes the same path as a first run:
 *
 * - the instance is gone (deleted meanwhile): nothing to do;
 * - it is already on the target (a crash after the move): only the start is left;
 * - it is somewhere else than expected (someone else moved it): nothing to do;
 * - the target no longer takes instances (it began an evacuation after it was chosen), or no
 *   longer fits the instance (its limits grew after the decision): choose another one when the
 *   caller allows it, else fail with the reason;
 * - the write that puts the instance on the target is refused by the check against what is stored
 *   there (another replica filled it, placement/confirmFit.ts): nothing of that write landed; choose
 *   another target (not one refused already; MAX_TARGETS in all) when the caller allows
 *   it, else put the instance back as it was and fail with the reason.
 *
 * volatile.last_state.power=RUNNING is set before the stop and cleared after the start, so a
 * crash in between still restarts the instance; volatile.evacuate.origin (evacuation) keeps the
 * first origin; a restore clears it once the instance is home.
 */
import type { InstanceLocks } from "../cluster/instanceLocks.ts";
import type { InstanceRecords } from "../cluster/instanceRecords.ts";
import { NoLongerFits, type PlacementTicket } from "../cluster/placementPort.ts";
import { BerthError, conflict, toError } from "../domain/errors.ts";
import type { InstanceExecutor } from "../domain/executor.ts";
import { progress } from "../domain/progress.ts";
import type { Instance, MemberLifecycle } from "../domain/types.ts";

/** heal: the source member is dead — nothing is asked of it; the move is only recorded, then the start happens on the target. */
export type MovePurpose = "evacuation" | "restore" | "relocation" | "heal";

export interface MoveOrder {
  project: string;
  name: string;
  /** Where the caller found the instance. */
  from: string;
  target: string;
  /**
   * The reservation on the target, committed when the move lands and released otherwise. None for a
   * restore or a resumed run: the procedure reserves the target itself, under the instance's lock.
   */
  ticket: PlacementTicket | null;
  live: boolean;
  purpose: MovePurpose;
  /**
   * Chooses and reserves another target, not one of `exclude`, when the chosen one stopped taking
   * instances or was found full; throws a 409 when none can.
   */
  retarget?: (instance: Instance, exclude: string[]) => Promise<PlacementTicket>;
  report?: (message: string) => void;
}

export type MoveResult =
  | { outcome: "moved"; to: string }
  | { outcome: "gone"; why: string }
  | { outcome: "no-target"; why: string };

export interface MoveDeps {
  records: InstanceRecords;
  locks: InstanceLocks;
  executor: InstanceExecutor;
  /** A member's stored lifecycle, or undefined when it does not exist. */
  memberLifecycle: (name: string) => Promise<MemberLifecycle | undefined>;
  /**
   * InstancePlacement.reserveAt: reserves all of an instance on a member (409 when it does not fit;
   * with `confine`, also when the member is outside the instance's group or its project's groups).
   */
  reserveAt: (instance: Instance, member: string, confine: boolean) => PlacementTicket;
}

const POWER = "volatile.last_state.power";
/** Targets one move tries at most when the check against what is stored finds them full. */
const MAX_TARGETS = 3;
const ORIGIN = "volatile.evacuate.origin";

const timeoutOf = (i: Instance) => Number(i.config["boot.host_shutdown_timeout"] ?? 30);

export class MoveProcedure {
  constructor(private readonly deps: MoveDeps) {}

  get canLiveMigrate(): boolean {
    return this.deps.executor.canLiveMigrate;
  }

  /** Whether `member` takes instances moved for `purpose` (a restore moves onto the member it restores). */
  async accepts(member: string, purpose: MovePurpose): Promise<string | null> {
    const state = await this.deps.memberLifecycle(member);
    if (state === undefined) return `cluster member "${member}" no longer exists`;
    if (state === "CREATED" || (purpose === "restore" && state === "RESTORING")) return null;
    return `cluster member "${member}" is ${state}`;
  }

  /** Runs one move to the end. Throws (with the instance put back where it was) when a step fails. */
  run(order: MoveOrder): Promise<MoveResult> {
    return this.deps.locks.with(order.project, order.name, () => this.locked(order));
  }

  /** A resumed move that had landed: starts the instance if it ran before, and clears the mark. */
  finish(project: string, name: string, report?: (message: string) => void): Promise<MoveResult> {
    return this.deps.locks.with(project, name, async () => {
      const instance = await this.deps.records.find(project, name);
      if (!instance) return { outcome: "gone", why: "deleted meanwhile" };
      await this.startIfItRan(instance, report ?? (() => {}));
      return { outcome: "moved", to: instance.location };
    });
  }

  private async locked(order: MoveOrder): Promise<MoveResult> {
    const { records, executor } = this.deps;
    const { project, name, purpose } = order;
    const report = order.report ?? (() => {});
    let ticket = order.ticket;
    const release = () => {
      ticket?.release();
      ticket = null;
    };
    let instance = await records.find(project, name);
    if (!instance) {
      release();
      return { outcome: "gone", why: "deleted meanwhile" };
    }
    let target = order.target;
    if (instance.location !== target) {
      if (instance.location !== order.from) {
        release();
        return { outcome: "gone", why: `moved to "${instance.location}" meanwhile` };
      }
      let refused = await this.accepts(target, purpose);
      if (refused === null) {
        // The decision may be older than the instance's limits (a resize between the plan and this
        // lock): the reservation must hold the instance as it is now, or the move over-commits.
        try {
          if (ticket) ticket.refit(instance);
          // Only a move to a member the user named may leave the instance's groups.
          else ticket = this.deps.reserveAt(instance, target, purpose !== "relocation");
        } catch (err) {
          if (!(err instanceof BerthError && err.status === 409)) {
            release();
            throw err;
          }
          refused = err.message;
        }
      }
      if (refused !== null) {
        release();
        if (!order.retarget) throw conflict(`Cannot move "${name}" to "${target}": ${refused}`);
        try {
          ticket = await order.retarget(instance, []);
        } catch (err) {
          if (err instanceof BerthError && err.status === 409) return { outcome: "no-target", why: `${refused}, and ${err.message}` };
          throw err;
        }
        target = ticket.location;
      }
      const running = instance.status === "Running";
      const marks: Record<string, string> = {}; // only what this run adds, so a failure can take it back
      if (running && instance.config[POWER] !== "RUNNING") marks[POWER] = "RUNNING";
      if ((purpose === "evacuation" || purpose === "heal") && !instance.config[ORIGIN]) marks[ORIGIN] = instance.location;
      const live = order.live && executor.canLiveMigrate;
      const full: string[] = []; // targets the check against what is stored refused
      let noTarget: string | null = null;
      try {
        if (purpose !== "heal") {
          instance = await records.setVolatile(project, name, marks);
          if (instance.status === "Running" && !live) {
            report(progress.stopping(instance));
            await executor.stop(instance, { force: false, timeoutS: timeoutOf(instance) });
          }
        }
        for (;;) {
          try {
            report(progress.migrating(instance, target));
            // A heal: its host answers nothing (and has fenced it, or is dead): the stop and the move are records, in one write.
            if (purpose === "heal") instance = await records.recordHealed(project, name, marks, target);
            else await executor.move(await records.get(project, name), target, { live });
            break;
          } catch (thrown) {
            if (!(thrown instanceof NoLongerFits) || !order.retarget || full.length + 1 >= MAX_TARGETS) throw thrown;
            release();
            full.push(target);
            report(`${thrown.message}; choosing another member`);
            try {
              ticket = await order.retarget(instance, full);
            } catch (err) {
              if (!(err instanceof BerthError && err.status === 409)) throw err;
              noTarget = `${thrown.message}, and ${err.message}`;
              break;
            }
            target = ticket.location;
          }
        }
      } catch (thrown) {
        release();
        await this.putBack(project, name, order.from, running && purpose !== "heal", marks); // a dead host starts nothing
        throw toError(thrown);
      }
      if (noTarget !== null) {
        await this.putBack(project, name, order.from, running && purpose !== "heal", marks);
        return { outcome: "no-target", why: noTarget };
      }
      ticket?.commit();
      ticket = null;
      if (purpose === "restore") await records.setVolatile(project, name, { [ORIGIN]: null });
    } else {
      release(); // already there: a resumed run
      if (purpose === "restore" && instance.config[ORIGIN]) await records.setVolatile(project, name, { [ORIGIN]: null });
    }
    const landed = await records.find(project, name);
    if (!landed) return { outcome: "gone", why: "deleted meanwhile" };
    await this.startIfItRan(landed, report);
    return { outcome: "moved", to: target };
  }

  /**
   * Starts an instance marked as having run, unless its member now refuses starts (it began an
   * evacuation after the move was decided): then the mark stays, and that evacuation starts it
   * where it goes.
   */
  private async startIfItRan(instance: Instance, report: (message: string) => void): Promise<void> {
    const { records, executor } = this.deps;
    if (instance.config[POWER] !== "RUNNING") return;
    const state = await this.deps.memberLifecycle(instance.location);
    if (state === "EVACUATING" || state === "EVACUATED") return;
    if (instance.status !== "Running") {
      report(progress.starting(instance));
      await executor.start(instance);
    }
    await records.setVolatile(instance.project, instance.name, { [POWER]: null });
  }

  /** After a failed stop or move: back as it was, running if it ran, without the marks this run set. */
  private async putBack(project: string, name: string, from: string, wasRunning: boolean, marks: Record<string, string>): Promise<void> {
    const { records, executor } = this.deps;
    try {
      const now = await records.find(project, name);
      if (!now || now.location !== from) return;
      if (wasRunning && now.status !== "Running") await executor.start(now);
      const cleanup: Record<string, null> = {};
      for (const key of Object.keys(marks)) cleanup[key] = null;
      await records.setVolatile(project, name, cleanup);
    } catch {
      // Left as it is: the caller reports the original error.
    }
  }
}
