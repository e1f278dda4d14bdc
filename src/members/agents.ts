/**
 * What the agents say: which members have one (its driver and version, when it last spoke) and
 * the observed state of each instance on them, as the agents report it with their heartbeats.
 * Kept in memory: an agent reports everything it observes with every heartbeat, so a restarted
 * service knows again within one heartbeat interval. Steps on such members wait here for the
 * observed state (agentExecutor.ts); a crash the agent reports becomes an event.
 */
import type { ObservedInstance, ObservedStatus } from "../domain/agentProtocol.ts";
import type { EventBus } from "../events/bus.ts";

export interface AgentInfo {
  driver: string;
  version: string;
}

interface AgentEntry extends AgentInfo {
  /** When the agent last spoke, ms since the epoch. */
  lastSeen: number;
  /** Each storage pool's driver as the agent last reported it (lxd: LXD's own), by pool name. */
  pools: Map<string, string>;
  /** Reports received: a wait judges failures only on reports newer than its start. */
  reports: number;
  observed: Map<string, ObservedInstance>;
}

/** The agent view an API member carries. */
export interface AgentView extends AgentInfo {
  last_seen: string;
}

const key = (project: string, name: string) => `${project}/${name}`;

export class AgentRegistry {
  private readonly agents = new Map<string, AgentEntry>();
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(private readonly bus: EventBus, private readonly now: () => number) {}

  /**
   * A heartbeat from an agent: its info, (when given) the complete list of what it observes, and
   * (when it reports resources) its storage pools with their drivers.
   */
  report(member: string, info: AgentInfo | undefined, instances: ObservedInstance[] | undefined, pools?: Record<string, { driver?: string }>): void {
    let entry = this.agents.get(member);
    if (!entry) {
      if (!info && !instances) return; // a heartbeat from something that is not an agent
      entry = { driver: info?.driver ?? "unknown", version: info?.version ?? "", lastSeen: 0, reports: 0, observed: new Map(), pools: new Map() };
      this.agents.set(member, entry);
    }
    if (info) Object.assign(entry, info);
    if (pools) entry.pools = new Map(Object.entries(pools).flatMap(([name, pool]) => (pool.driver ? [[name, pool.driver] as const] : [])));
    entry.lastSeen = this.now();
    entry.reports++;
    if (instances) {
      const next = new Map(instances.map((i) => [key(i.project, i.name), i]));
      for (const [k, now] of next) {
        const before = entry.observed.get(k);
        if (now.status === "Error" && before?.status !== "Error") {
          this.bus.lifecycle("instance-error", `/1.0/instances/${now.name}`, { location: member, reason: now.reason ?? "" }, now.project);
        }
      }
      entry.observed = next;
    }
    for (const wake of [...(this.waiters.get(member) ?? [])]) wake();
  }

  hasAgent(member: string): boolean {
    return this.agents.has(member);
  }

  view(member: string): AgentView | null {
    const entry = this.agents.get(member);
    if (!entry) return null;
    return { driver: entry.driver, version: entry.version, last_seen: new Date(entry.lastSeen).toISOString() };
  }

  /** The pool's driver as the member's agent reported it; undefined when it reports no such pool (or no driver). */
  poolDriver(member: string, pool: string): string | undefined {
    return this.agents.get(member)?.pools.get(pool);
  }

  /** What the member's agent last reported for the instance; undefined when it does not report it. */
  observed(member: string, project: string, name: string): ObservedInstance | undefined {
    return this.agents.get(member)?.observed.get(key(project, name));
  }

  /** Forgets a removed member's agent. */
  forget(member: string): void {
    this.agents.delete(member);
    for (const wake of [...(this.waiters.get(member) ?? [])]) wake();
  }

  /**
   * Resolves once `done` holds for what the member's agent reports (checked now and after every
   * report); rejects with `failed`'s message when a report newer than this call says so, or after
   * timeoutMs.
   */
  waitFor(member: string, done: () => boolean, failed: () => string | null, timeoutMs: number, what: string): Promise<void> {
    const startedAt = this.agents.get(member)?.reports ?? 0;
    return new Promise((resolve, reject) => {
      const set = this.waiters.get(member) ?? new Set();
      this.waiters.set(member, set);
      const finish = (err?: Error) => {
        clearTimeout(timer);
        set.delete(check);
        if (set.size === 0) this.waiters.delete(member);
        if (err) reject(err);
        else resolve();
      };
      const check = () => {
        const fresh = (this.agents.get(member)?.reports ?? 0) > startedAt;
        const problem = fresh ? failed() : null;
        if (problem !== null) finish(new Error(problem));
        else if (done()) finish();
      };
      const timer = setTimeout(() => finish(new Error(
        `the agent on cluster member "${member}" did not report ${what} within ${Math.round(timeoutMs / 1000)} s`,
      )), timeoutMs);
      timer.unref();
      set.add(check);
      check();
    });
  }
}
