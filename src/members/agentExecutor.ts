/**
 * The executor for every member: records the action as the store executor does (the record is
 * what a member's agent reconciles to, through its desired state), and on a member with an agent
 * completes only when the agent reports the result — the instance running, stopped, gone from
 * the source, known on the target — or fails with the agent's reason, or after
 * cluster.agent_step_timeout. Members without an agent behave as with the store executor alone.
 *
 * A move between two lxd agents of an instance that must keep its root filesystem (not stateless,
 * root disk not on a remote pool) first runs LXD's migration API between the two daemons, pull
 * mode: the source agent prepares the migration and answers with the operation URL, its LXD's
 * certificate and the secrets; the service hands those to the target agent, whose LXD pulls the
 * container straight from the source's LXD. Both requests ride the agents' desired-state answers
 * (agents open no port). Only once the target has it is the move recorded, so the source agent,
 * which no longer sees it listed, deletes its copy. Other moves are recorded at once: the target
 * creates the instance afresh (recreate).
 */
import type { InstanceExecutor, MoveMethod, StopOptions } from "../domain/executor.ts";
import type { Instance } from "../domain/types.ts";
import type { AgentRegistry } from "./agents.ts";
import { DesiredState } from "./desiredState.ts";
import { recreatable } from "./evacuationRules.ts";

export class AgentExecutor implements InstanceExecutor {
  /** The process driver cannot carry a running process across machines, nor LXD here (no CRIU): moves stop, move, start. */
  readonly canLiveMigrate = false;

  constructor(
    private readonly inner: InstanceExecutor,
    private readonly agents: AgentRegistry,
    /** cluster.agent_step_timeout, in ms. */
    private readonly timeoutMs: () => number,
    private readonly desired: DesiredState,
    /** The driver of a pool as Berth's own pool list has it (storage pools), for pools no agent reports. */
    private readonly declaredPoolDriver: (pool: string) => string | undefined,
  ) {}

  private isLxd(member: string): boolean {
    return this.agents.view(member)?.driver === "lxd";
  }

  /**
   * Between two lxd members: recreate when evacuationRules.recreatable says so, judging the root
   * disk's pool by the driver the source's agent reports for it (LXD's own, which knows whether the
   * pool is shared), else by Berth's pool list; otherwise migrate, so the root filesystem travels.
   */
  moveMethod(instance: Instance, from: string, to: string): MoveMethod | undefined {
    if (!this.isLxd(from) && !this.isLxd(to)) return undefined;
    const poolDriver = (pool: string) => this.agents.poolDriver(from, pool) ?? this.declaredPoolDriver(pool);
    return this.isLxd(from) && this.isLxd(to) && recreatable(instance, poolDriver) === null ? "migrate" : "recreate";
  }

  async start(instance: Instance): Promise<void> {
    await this.inner.start(instance);
    const { location: member, project, name } = instance;
    if (!this.agents.hasAgent(member)) return;
    const seen = () => this.agents.observed(member, project, name);
    await this.agents.waitFor(member, () => seen()?.status === "Running", () => {
      const now = seen();
      return now?.status === "Error" ? `Instance "${name}" failed to start on cluster member "${member}": ${now.reason ?? "no reason given"}` : null;
    }, this.timeoutMs(), `instance "${name}" in project "${project}" running`);
  }

  async stop(instance: Instance, options: StopOptions): Promise<void> {
    await this.inner.stop(instance, options);
    const { location: member, project, name } = instance;
    if (!this.agents.hasAgent(member)) return;
    // The agent's own clean-stop time-out comes first: wait for it, and then for ours.
    const limit = this.timeoutMs() + Math.max(0, options.timeoutS) * 1000;
    await this.agents.waitFor(member, () => this.agents.observed(member, project, name)?.status !== "Running", () => null,
      limit, `instance "${name}" in project "${project}" stopped`);
  }

  async move(instance: Instance, target: string, options: { live: boolean }): Promise<void> {
    const { location: source, project, name } = instance;
    if (this.moveMethod(instance, source, target) === "migrate") await this.migrate(instance, target);
    await this.inner.move(instance, target, options);
    const seenOn = (member: string) => this.agents.observed(member, project, name);
    if (this.agents.hasAgent(source)) {
      await this.agents.waitFor(source, () => seenOn(source)?.status !== "Running", () => null,
        this.timeoutMs(), `instance "${name}" in project "${project}" no longer running there`);
    }
    if (this.agents.hasAgent(target)) {
      await this.agents.waitFor(target, () => seenOn(target) !== undefined, () => null,
        this.timeoutMs(), `instance "${name}" in project "${project}" taken over`);
    }
  }

  /** LXD's migration API between the two members' daemons (pull mode), relayed through the agents' long-polls. */
  private async migrate(instance: Instance, target: string): Promise<void> {
    const { location: source, project, name } = instance;
    const out = await this.desired.ask(source, { kind: "migrate-out", project, name }, this.timeoutMs());
    if (out.error || !out.offer) {
      throw new Error(`Cannot migrate "${name}" off cluster member "${source}": ${out.error ?? "its agent offered nothing"}`);
    }
    const wanted = { ...DesiredState.desiredOf(instance), desired: "Stopped" as const };
    const into = await this.desired.ask(target, { kind: "migrate-in", project, name, instance: wanted, offer: out.offer }, this.timeoutMs());
    if (into.error) throw new Error(`Cannot migrate "${name}" to cluster member "${target}": ${into.error}`);
  }
}
