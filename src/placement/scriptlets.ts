/**
 * The placement scriptlet in the service: a lazily started sandbox whose replica follows every
 * cluster change, a hook per placement for the scheduler, installation as a config guard, and
 * scriptlet logs sent to the service log and the event stream.
 */
import type { Logger } from "pino";
import type { ClusterChange, ClusterChanges } from "../cluster/changes.ts";
import type { ConfigService } from "../cluster/configService.ts";
import type { InstanceRecords } from "../cluster/instanceRecords.ts";
import type { MemberService } from "../cluster/memberService.ts";
import type { ProjectService } from "../cluster/projectService.ts";
import { badRequest } from "../domain/errors.ts";
import { resourceRequest } from "../domain/instanceConfig.ts";
import type { ServerConfig } from "../domain/serverConfig.ts";
import type { Instance, PlacementReason } from "../domain/types.ts";
import type { EventBus } from "../events/bus.ts";
import { ScriptletSandbox, type ScriptletOutcome, type ScriptletRequest, type SandboxLimits } from "../sandbox/index.ts";
import type { ChooseHook } from "../scheduler/index.ts";
import { outsideLeader } from "../store/store.ts";

export interface ScriptletDeps {
  config: ConfigService;
  members: MemberService;
  instances: InstanceRecords;
  projects: ProjectService;
  changes: ClusterChanges;
  bus: EventBus;
  logger: Logger;
  poolSize?: number;
}

/** Receives what the scriptlet did in one placement (for the query and test endpoints). */
export type OutcomeSink = (outcome: ScriptletOutcome) => void;

function limitsOf(config: ServerConfig): SandboxLimits {
  return { timeoutMs: config["scriptlet.timeout_ms"], memoryMb: config["scriptlet.memory_mb"] };
}

export function scriptletRequest(instance: Instance, reason: PlacementReason): ScriptletRequest {
  const r = resourceRequest(instance);
  return {
    name: instance.name, project: instance.project, type: instance.type, reason, architecture: instance.architecture,
    config: instance.config, devices: instance.devices, profiles: instance.profiles, description: instance.description,
    resources: { cpu_cores: r.cpu, memory_size: r.memory, root_disk_size: r.disk },
  };
}

/** The instance a trial placement places: no limits, no devices, in the default project. */
const TRIAL_INSTANCE: Instance = {
  name: "scriptlet-trial", project: "default", type: "container", architecture: "", location: "", status: "Stopped",
  description: "", config: {}, devices: {}, profiles: ["default"], created_at: new Date(0).toISOString(),
};

function decisionOf(outcome: ScriptletOutcome): { target?: string } | { reject: string } {
  if (outcome.rejected !== null) return { reject: outcome.rejected };
  return outcome.target ? { target: outcome.target } : {};
}

export class Scriptlets {
  private sandbox: ScriptletSandbox | null = null;
  /** The first start of the sandbox, while its replica is read. */
  private starting: Promise<ScriptletSandbox> | null = null;
  /** Changes published while the replica is read, applied once it is in place. */
  private queued: ClusterChange[] | null = null;
  /** member → the latest state read asked for it (an older read that answers late is dropped). */
  private readonly stateReads = new Map<string, number>();
  private subscribed = false;
  /**
   * Limits a config change in progress set (its guard runs before the change is committed), so
   * that a sandbox started by that same change — installing the first scriptlet together with
   * scriptlet.timeout_ms — starts with them, not with the config still in force.
   */
  private limits: SandboxLimits | null = null;

  constructor(private readonly deps: ScriptletDeps) {
    // Installing a scriptlet is a config change that must pass validation and a trial placement
    // first: a guard on the config.
    deps.config.addGuard(async (next, previous, changed, context) => {
      if (changed.includes("scriptlet.timeout_ms") || changed.includes("scriptlet.memory_mb")) this.setLimits(limitsOf(next));
      if (!changed.includes("instances.placement.scriptlet")) return;
      const source = next["instances.placement.scriptlet"];
      try {
        if (source.trim() !== "") {
          if (context.force) context.note("Trial placement not run (force): the scriptlet is installed untried.");
          else context.note(await this.trial(source));
        }
        await this.install(source);
      } catch (err) {
        this.setLimits(limitsOf(previous)); // the whole change is refused: limits go back too
        throw err;
      }
    });
  }

  /** Loads the scriptlet stored in the config at start; a broken one is logged and built-in placement is used. */
  async loadStored(): Promise<void> {
    const stored = this.deps.config.get()["instances.placement.scriptlet"];
    if (!stored) return;
    await this.install(stored).catch((err) => this.deps.logger.error({ err }, "the stored placement scriptlet failed to load; built-in placement is used"));
  }

  /** Starts the sandbox on first use, with a full replica; afterwards it follows every change. */
  private ensure(): Promise<ScriptletSandbox> {
    if (this.sandbox) return Promise.resolve(this.sandbox);
    this.starting ??= this.start().finally(() => { this.starting = null; });
    return this.starting;
  }

  private async start(): Promise<ScriptletSandbox> {
    const { members, instances, projects, bus, logger } = this.deps;
    // Following from before the reads: what changes while they run is applied after them.
    this.queued = [];
    if (!this.subscribed) {
      this.subscribed = true;
      this.deps.changes.subscribe((change) => {
        if (this.queued) this.queued.push(change);
        else this.follow(change);
      });
    }
    const sandbox = new ScriptletSandbox({
      ...(this.limits ?? limitsOf(this.deps.config.get())),
      poolSize: this.deps.poolSize,
      onLog: (log) => {
        const context = { instance: log.instance, project: log.project, reason: log.reason };
        logger[log.level]({ scriptlet: true, ...context }, log.message);
        // The sandbox's workers call back in the context they were started in, which may be the
        // leader's work of an epoch long gone: a log is never the leader's write (store.ts asLeader).
        outsideLeader(() => bus.emit("logging", { level: log.level, message: log.message, context }, log.project));
      },
    });
    const memberList = await members.list();
    const states = await Promise.all(memberList.map(async (m) => [m.server_name, await members.state(m.server_name)] as const));
    sandbox.reset({
      members: memberList,
      member_states: Object.fromEntries(states),
      instances: await instances.list(),
      pending: [],
      projects: projects.list(),
    });
    this.sandbox = sandbox;
    const queued = this.queued ?? [];
    this.queued = null;
    for (const change of queued) this.follow(change);
    return sandbox;
  }

  private follow(change: ClusterChange): void {
    const sandbox = this.sandbox;
    if (!sandbox) return;
    switch (change.kind) {
      case "member":
        sandbox.applyDelta({ kind: "member.upsert", member: change.member });
        this.followState(change.member.server_name);
        break;
      case "member-removed":
        sandbox.applyDelta({ kind: "member.remove", name: change.name });
        break;
      case "instance":
        sandbox.applyDelta({ kind: "instance.upsert", instance: change.instance });
        break;
      case "instance-removed":
        sandbox.applyDelta({ kind: "instance.remove", project: change.project, name: change.name });
        break;
      case "project":
        sandbox.applyDelta({ kind: "project.upsert", project: change.project });
        break;
      case "project-removed":
        sandbox.applyDelta({ kind: "project.remove", name: change.name });
        break;
      default:
        break; // group membership reaches the replica through the members it changes
    }
  }

  /** The member's state report, read from the store: applied unless a newer read was asked meanwhile. */
  private followState(name: string): void {
    const asked = (this.stateReads.get(name) ?? 0) + 1;
    this.stateReads.set(name, asked);
    this.deps.members.state(name).then((state) => {
      if (this.stateReads.get(name) !== asked) return;
      this.stateReads.delete(name);
      this.sandbox?.applyDelta({ kind: "member_state.set", name, state });
    }, () => {
      if (this.stateReads.get(name) === asked) this.stateReads.delete(name); // removed meanwhile
    });
  }

  /**
   * Runs `source` once against the live cluster, as `scriptlet test` would, before it is installed:
   * reason `new`, an instance without limits, every Online member a candidate. Throws (400) when it
   * is invalid or when the call throws, times out or runs out of memory: such a scriptlet would
   * break every placement. A refusal (a returned message or fail()) is policy, not breakage: it
   * passes. Returns what the trial did, for the answer.
   */
  async trial(source: string): Promise<string> {
    const online = (await this.deps.members.list()).filter((m) => m.status === "Online").map((m) => m.server_name).sort();
    if (online.length === 0) return "Trial placement skipped: no Online member to offer the scriptlet as a candidate.";
    const sandbox = await this.ensure();
    const outcome = await sandbox.test(source, scriptletRequest(TRIAL_INSTANCE, "new"), online);
    const what = `a trial placement (reason new, instance "${TRIAL_INSTANCE.name}" without limits, ${online.length} Online member(s) as candidates)`;
    if (outcome.error !== null) {
      throw badRequest(`The scriptlet failed ${what}: ${outcome.error}. It was not installed; fix it, or install it anyway with --force (berth scriptlet set --force; over the API ?force=true).`);
    }
    const result = outcome.rejected !== null
      ? `refused it (${outcome.rejected})`
      : outcome.target ? `chose "${outcome.target}"` : "kept the built-in choice";
    return `Trial placement passed: the scriptlet ${result} in ${Math.round(outcome.duration_ms * 10) / 10} ms.`;
  }

  installed(): boolean {
    return this.sandbox?.installed() ?? false;
  }

  /** Validates and installs (the config guard); "" goes back to built-in placement. */
  async install(source: string): Promise<void> {
    if (source.trim() === "" && !this.sandbox) return;
    await (await this.ensure()).install(source);
  }

  setLimits(limits: SandboxLimits): void {
    this.limits = limits;
    this.sandbox?.setLimits(limits);
  }

  /** A placement in flight, for get_instances_count({pending: true}). */
  pending(id: string, instance: Instance, location: string | null): void {
    if (!this.sandbox) return;
    if (location === null) this.sandbox.applyDelta({ kind: "pending.remove", id });
    else this.sandbox.applyDelta({ kind: "pending.add", placement: { id, project: instance.project, name: instance.name, location } });
  }

  /** The scheduler hook for one placement of this instance, or undefined when no scriptlet is installed. */
  hookFor(instance: Instance, sink?: OutcomeSink): ChooseHook | undefined {
    if (!this.installed()) return undefined;
    const sandbox = this.sandbox!;
    return async (request, candidates) => {
      const outcome = await sandbox.place(scriptletRequest(instance, request.reason), candidates.map((c) => c.member));
      sink?.(outcome);
      // A real placement (a query has a sink and reports it itself): the operator hears of a broken scriptlet.
      if (!sink && outcome.error !== null) {
        this.deps.logger.warn(
          { instance: instance.name, project: instance.project, reason: request.reason, error: outcome.error, duration_ms: outcome.duration_ms },
          "the placement scriptlet failed",
        );
      }
      return decisionOf(outcome);
    };
  }

  /** A hook that runs a given source (not installed): POST /1.0/scheduler/scriptlet/test. */
  testHook(source: string, instance: Instance, sink: OutcomeSink): ChooseHook {
    return async (request, candidates) => {
      const sandbox = await this.ensure();
      const outcome = await sandbox.test(source, scriptletRequest(instance, request.reason), candidates.map((c) => c.member));
      sink(outcome);
      return decisionOf(outcome);
    };
  }

  async close(): Promise<void> {
    await this.sandbox?.close();
    this.sandbox = null;
  }
}
