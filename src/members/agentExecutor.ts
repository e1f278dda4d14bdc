/**
 * The executor for every member: records the action as the store executor does (the record is
 * what a member's agent reconciles to, through its desired state), and on a member with an agent
 * completes only when the agent reports the result — the instance running, stopped, gone from
 * the source, known on the target — or fails with the agent's reason, or after
 * cluster.agent_step_timeout. Members without an agent behave as with the store executor alone.
 */
import type { InstanceExecutor, StopOptions } from "../domain/executor.ts";
import type { Instance } from "../domain/types.ts";
import type { AgentRegistry } from "./agents.ts";

export class AgentExecutor implements InstanceExecutor {
  /** The process driver cannot carry a running process across machines: moves stop, move, start. */
  readonly canLiveMigrate = false;

  constructor(
    private readonly inner: InstanceExecutor,
    private readonly agents: AgentRegistry,
    /** cluster.agent_step_timeout, in ms. */
    private readonly timeoutMs: () => number,
  ) {}

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
    await this.inner.move(instance, target, options);
    const { location: source, project, name } = instance;
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
}
