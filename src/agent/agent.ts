/**
 * The agent loop: adopts what runs, follows the desired state (long-poll), reconciles through its
 * driver, and reports — the observed state of its instances at once when it changes, and its
 * resources at every heartbeat. Decisions are reconcile.ts's; this file drives them.
 *
 * Start-up order (docs/agents.md): adopt (look at every instance recorded under <data>), fetch the
 * desired state with no `since`, reconcile, report; only then heartbeats and the long-poll.
 */
import type { Logger } from "pino";
import { toError } from "../domain/errors.ts";
import type { MemberResources, MemberStateReport } from "../domain/types.ts";
import { ServiceError, type AgentClient } from "./client.ts";
import { DefinitionChanges } from "./definitionChanges.ts";
import type { Driver, Observation } from "./drivers/driver.ts";
import { FenceLeaseKeeper } from "./fenceLease.ts";
import { checkInstanceName, type InstanceRecords } from "./files.ts";
import { instanceKey, type DesiredInstance, type DesiredState, type HeartbeatAnswer, type ObservedInstance } from "./protocol.ts";
import { afterFailure, reconcile, type Action, type Backoff } from "./reconcile.ts";
import { RequestAnswerer } from "./requests.ts";
import { sleep } from "./sleep.ts";
import { monotonicMs } from "./supervisorState.ts";

export interface AgentOptions {
  client: AgentClient;
  driver: Driver;
  records: InstanceRecords;
  /** One reading of this machine: its resources and LXD's member state. */
  probe: () => Promise<{ resources: MemberResources; state?: MemberStateReport }>;
  logger: Logger;
  version: string;
  /** How long the service may hold a long-poll (seconds, at most 60). */
  pollWaitS?: number;
  now?: () => number;
  /** Where the fence lease is kept for the supervisors (<data>/fence.json); none: nothing fences. */
  fenceFile?: string;
  /** This boot's monotonic clock in ms (tests may fake it). */
  monotonic?: () => number;
}

/** Until the service says otherwise: its default offline threshold (20 s) / 4. */
const DEFAULT_HEARTBEAT_MS = 5_000;
const MAX_RETRY_MS = 30_000;
const REPORT_BURST_MS = 20;

export class Agent {
  private readonly stopping = new AbortController();
  private readonly now: () => number;
  private readonly log: Logger;
  /** The instances recorded under <data>: everything this agent runs or ran and has not forgotten. */
  private known = new Map<string, DesiredInstance>();
  private desired: DesiredState | null = null;
  private readonly observed = new Map<string, Observation>();
  /** Why the last action on an instance failed, shown as its Error while the driver sees it stopped. */
  private readonly failures = new Map<string, string>();
  private readonly backoff = new Map<string, Backoff>();
  private readonly busy = new Set<string>();
  private readonly actions = new Set<Promise<void>>();
  private readonly requests: RequestAnswerer;
  private readonly changes = new DefinitionChanges();
  private heartbeatMs = DEFAULT_HEARTBEAT_MS;
  private lastReport: string | null = null;
  private reporting: Promise<void> | null = null;
  private reportAgain = false;
  private reportDue: Promise<void> | null = null;
  private wake: NodeJS.Timeout | null = null;
  private loops: Promise<void>[] = [];
  private readonly fence: FenceLeaseKeeper;
  private readonly monotonic: () => number;
  private fencingFailure: string | undefined;

  constructor(private readonly opts: AgentOptions) {
    this.now = opts.now ?? Date.now;
    this.log = opts.logger;
    this.monotonic = opts.monotonic ?? monotonicMs;
    this.fence = new FenceLeaseKeeper(opts.fenceFile, this.monotonic);
    this.requests = new RequestAnswerer({ client: opts.client, driver: opts.driver, log: this.log, signal: this.stopping.signal, busy: this.busy });
  }

  /** Adopts, fetches the desired state, reconciles and reports; then runs until stop(). */
  async start(): Promise<void> {
    await this.fence.load();
    // Before anything can start: what enforces the lease when this agent cannot (lxd's fence watcher).
    await this.opts.driver.ensureFencing?.();
    this.known = await this.opts.records.load((path, err) => this.log.error({ err, path }, "ignoring an unreadable instance record"));
    await this.adoptOwned();
    for (const key of this.known.keys()) await this.refresh(key);
    this.log.info({ driver: this.opts.driver.name, instances: this.known.size, running: this.list().filter((i) => i.status === "Running").length }, "adopted the recorded instances");
    const first = await this.fetchFirst();
    if (!first) return; // stopped while waiting for the service
    await this.apply(first);
    await this.report();
    const signal = this.stopping.signal;
    this.loops = [this.pollLoop(signal), this.heartbeatLoop(signal), this.observeLoop(signal)];
  }

  /** Ends the loops; instances keep running (the process driver's supervisors outlive the agent). */
  async stop(): Promise<void> {
    this.stopping.abort();
    if (this.wake) clearTimeout(this.wake);
    await Promise.allSettled(this.loops);
  }

  /** Resolves once no action is under way (tests; a stop that waits for them). */
  async settled(): Promise<void> {
    while (this.actions.size > 0) await Promise.allSettled([...this.actions]);
  }

  /** The complete observed list the agent reports, in key order. */
  list(): ObservedInstance[] {
    return [...this.known.values()]
      .sort((a, b) => (instanceKey(a) < instanceKey(b) ? -1 : 1))
      .map((i) => {
        const seen = this.observed.get(instanceKey(i)) ?? { status: "Stopped" };
        const item: ObservedInstance = { project: i.project, name: i.name, status: seen.status };
        if (seen.pid !== undefined && seen.status === "Running") item.pid = seen.pid;
        if (seen.reason && seen.status === "Error") item.reason = seen.reason;
        return item;
      });
  }

  /**
   * Instances the driver finds that this member owns but the agent has no record of (its data
   * directory was lost or replaced): known from now on, so reconcile keeps what is listed and
   * removes what is not. Nothing without the driver's ownership mark is ever taken in.
   */
  private async adoptOwned(): Promise<void> {
    if (!this.opts.driver.owned) return;
    let owned: DesiredInstance[];
    try {
      owned = await this.opts.driver.owned();
    } catch (err) {
      this.log.warn({ err: toError(err).message }, "cannot list the driver's instances; adopting only the recorded ones");
      return;
    }
    for (const instance of owned) {
      const key = instanceKey(instance);
      if (this.known.has(key)) continue;
      try {
        checkInstanceName(instance);
        await this.opts.records.save(instance);
        this.known.set(key, instance);
        this.log.info({ instance: key }, "adopted an instance this member owns that had no record");
      } catch (err) {
        this.log.error({ err: toError(err).message, instance: key }, "cannot adopt this instance");
      }
    }
  }

  private async fetchFirst(): Promise<DesiredState | null> {
    for (let failures = 0; !this.stopping.signal.aborted; ) {
      try {
        const asked = this.monotonic();
        const state = await this.opts.client.desired(undefined, 0, this.stopping.signal);
        this.fence.desiredRead(asked);
        return state;
      } catch (err) {
        if (this.stopping.signal.aborted) break;
        failures++;
        this.log.warn({ err: toError(err).message }, "cannot fetch the desired state yet; retrying");
        await sleep(retryMs(failures), this.stopping.signal);
      }
    }
    return null;
  }

  private async pollLoop(signal: AbortSignal): Promise<void> {
    const waitS = Math.min(60, this.opts.pollWaitS ?? 30);
    let failures = 0;
    while (!signal.aborted) {
      const since = this.desired?.revision;
      const asked = Date.now();
      const askedMono = this.monotonic();
      try {
        const state = await this.opts.client.desired(since, waitS, signal);
        failures = 0;
        this.fence.desiredRead(askedMono);
        await this.apply(state);
        // A service that answers at once when nothing changed would make this loop spin.
        if (state.revision === since && Date.now() - asked < 1000) await sleep(1000, signal);
      } catch (err) {
        if (signal.aborted) break;
        failures++;
        this.log.warn({ err: toError(err).message, status: err instanceof ServiceError ? err.status : undefined }, "the desired-state poll failed; retrying");
        await sleep(retryMs(failures), signal);
      }
    }
  }

  private async heartbeatLoop(signal: AbortSignal): Promise<void> {
    let lastStatus: string | undefined;
    let lastError: string | undefined;
    // After a failed heartbeat the next comes sooner (1 s, doubling up to the interval): the service
    // may have moved to another replica, and the fence lease is not renewed meanwhile.
    let retryMs = 0;
    while (!signal.aborted) {
      try {
        const { resources, state } = await this.opts.probe();
        const instances = this.list();
        const agent = { version: this.opts.version, driver: this.opts.driver.name };
        const sent = this.monotonic();
        const answer = await this.opts.client.heartbeat({ resources, state, agent, instances, healing_threshold: this.fence.inForce() }, signal);
        await this.fence.renew(sent, answer);
        this.lastReport = JSON.stringify(instances);
        this.heartbeatMs = heartbeatInterval(answer);
        if (answer.status !== lastStatus || lastError) this.log.info({ status: answer.status, message: answer.message, every_s: this.heartbeatMs / 1000 }, "heartbeat");
        lastStatus = answer.status;
        lastError = undefined;
        retryMs = 0;
      } catch (err) {
        if (signal.aborted) break;
        const message = toError(err).message;
        if (message !== lastError) this.log.warn({ err: message }, "heartbeat failed");
        lastError = message;
        retryMs = Math.min(this.heartbeatMs, retryMs === 0 ? 1000 : retryMs * 2);
      }
      await sleep(retryMs || this.heartbeatMs, signal);
    }
  }

  /** Looks at every instance now and then: a crash or an outside change is seen and reported. */
  private async observeLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await sleep(this.opts.driver.observeIntervalMs, signal);
      if (signal.aborted) break;
      await this.ensureFencing();
      for (const key of [...this.known.keys()]) {
        if (!this.busy.has(key)) await this.refresh(key);
      }
      this.kick();
      await this.reportIfChanged();
    }
  }

  /** Replaces the driver's fence helper if it died (someone killed it); a failure is logged when it changes. */
  private async ensureFencing(): Promise<void> {
    try {
      await this.opts.driver.ensureFencing?.();
      this.fencingFailure = undefined;
    } catch (err) {
      const message = toError(err).message;
      if (message !== this.fencingFailure) this.log.error({ err: message }, "nothing enforces the fence deadline on this member's instances");
      this.fencingFailure = message;
    }
  }

  /** Takes a desired state in: records what is listed, reconciles, answers requests. */
  private async apply(state: DesiredState): Promise<void> {
    // Records first, then known and desired together: a look in between (an action ending, the
    // observe loop) must not see a newly known instance as one that is no longer listed.
    const taken: [string, DesiredInstance, DesiredInstance | undefined][] = [];
    for (const instance of state.instances) {
      const key = instanceKey(instance);
      try {
        checkInstanceName(instance);
        const before = this.known.get(key);
        if (!before || JSON.stringify(before) !== JSON.stringify(instance)) {
          await this.opts.records.save(instance);
          taken.push([key, instance, before]);
        }
      } catch (err) {
        this.log.error({ err: toError(err).message, instance: key }, "cannot take this instance in");
      }
    }
    const recorded = new Set(taken.map(([key]) => key));
    const instances = state.instances.filter((i) => this.known.has(instanceKey(i)) || recorded.has(instanceKey(i)));
    // The supervisors must know what to fence before any of it starts.
    await this.fence.fenceable(instances.filter((i) => i.fence).map(instanceKey));
    for (const [key, instance, before] of taken) {
      this.known.set(key, instance);
      if (before && this.opts.driver.update) this.changes.note(key, before, instance);
    }
    if (state.revision !== this.desired?.revision) this.log.info({ revision: state.revision, instances: state.instances.length }, "desired state");
    this.desired = { ...state, instances };
    this.kick();
    this.requests.answer(state.requests ?? []);
  }

  /** Reconciles now and starts the actions that closes the gap; changes of definition go first. */
  private kick(): void {
    if (!this.desired || this.stopping.signal.aborted) return;
    for (const [key, previous] of this.changes.take((key) => !this.busy.has(key))) {
      const instance = this.known.get(key);
      if (instance) this.occupy(key, () => this.applyChange(key, instance, previous));
    }
    const { actions, wakeAt } = reconcile({
      desired: this.desired.instances,
      known: this.known,
      observed: this.observed,
      backoff: this.backoff,
      busy: this.busy,
      now: this.now(),
      holdFenced: this.fence.held(),
    });
    for (const action of actions) this.launch(action);
    if (this.wake) clearTimeout(this.wake);
    this.wake = wakeAt === null ? null : setTimeout(() => this.kick(), Math.max(0, wakeAt - this.now()));
  }

  private launch(action: Action): void {
    this.occupy(action.key, () => this.perform(action));
  }

  /** Runs work on the instance, which is busy meanwhile (nothing else is done to it), then reconciles. */
  private occupy(key: string, work: () => Promise<void>): void {
    this.busy.add(key);
    const done = work()
      .catch((err: unknown) => this.log.error({ err: toError(err), instance: key }, "an action failed unexpectedly"))
      .finally(() => {
        this.actions.delete(done);
        this.busy.delete(key);
        this.kick();
      });
    this.actions.add(done);
  }

  /** Berth changed the instance's definition: the driver applies it to what runs (lxd: PUT on the container). */
  private async applyChange(key: string, instance: DesiredInstance, previous: DesiredInstance): Promise<void> {
    try {
      if (await this.opts.driver.update!(instance, previous)) this.log.info({ instance: key }, "applied the instance's new definition");
    } catch (err) {
      this.changes.notApplied(key, previous);
      this.log.warn({ instance: key, err: toError(err).message }, "the instance's new definition could not be applied (tried again with its next change)");
    }
  }

  private async perform(action: Action): Promise<void> {
    const { key, instance } = action;
    const { driver } = this.opts;
    this.log.info({ instance: key, action: action.kind }, action.kind === "start" ? "starting" : action.kind === "stop" ? "stopping" : "forgetting (no longer listed here)");
    let failed: string | undefined;
    try {
      if (action.kind === "start") {
        await driver.start(instance);
      } else {
        await driver.stop(instance, action.timeoutS);
        this.backoff.delete(key);
      }
      this.failures.delete(key);
      // Listed again while it stopped (moved away and back): it stays known, and reconcile goes on from Stopped.
      if (action.kind === "forget" && !this.desired?.instances.some((i) => instanceKey(i) === key)) {
        await driver.remove?.(instance);
        await this.opts.records.remove(instance);
        this.known.delete(key);
        this.changes.forget(key);
        this.observed.delete(key);
      }
    } catch (err) {
      failed = toError(err).message;
      this.failures.set(key, failed);
    }
    const backoff = this.backoff.get(key);
    await this.refresh(key);
    // The look after a failed start may have seen the failure as a crash and backed off already.
    if (failed !== undefined && this.backoff.get(key) === backoff) {
      this.backoff.set(key, afterFailure(backoff, action.kind, undefined, this.now()));
    }
    if (failed !== undefined) {
      this.log.warn({ instance: key, action: action.kind, reason: failed, retry_in_s: ((this.backoff.get(key)?.notBefore ?? 0) - this.now()) / 1000 }, "action failed");
    }
    await this.reportIfChanged();
  }

  /** Asks the driver how an instance is; a run that ended unasked starts a back-off. */
  private async refresh(key: string): Promise<void> {
    const instance = this.known.get(key);
    if (!instance) return;
    let seen: Observation;
    try {
      seen = await this.opts.driver.status(instance);
    } catch (err) {
      seen = { status: "Error", reason: `its status could not be read: ${toError(err).message}` };
    }
    const before = this.observed.get(key);
    if (seen.status === "Error" && !(before?.status === "Error" && before.reason === seen.reason && before.endedAt === seen.endedAt)) {
      const ran = seen.startedAt !== undefined && seen.endedAt !== undefined ? seen.endedAt - seen.startedAt : undefined;
      this.backoff.set(key, afterFailure(this.backoff.get(key), "start", ran, this.now()));
      this.log.warn({ instance: key, reason: seen.reason }, "instance failed");
    }
    const failure = this.failures.get(key);
    if (seen.status === "Stopped" && failure) seen = { status: "Error", reason: failure };
    this.observed.set(key, seen);
  }

  /**
   * Reports the observed list when it differs from the last one the service got. Actions end in
   * bursts (a heal brings many instances at once): the report waits REPORT_BURST_MS so one carries
   * the burst, instead of one complete list per action.
   */
  private async reportIfChanged(): Promise<void> {
    if (!this.reportDue) {
      this.reportDue = sleep(REPORT_BURST_MS, this.stopping.signal).then(() => {
        this.reportDue = null;
        return JSON.stringify(this.list()) !== this.lastReport ? this.report() : undefined;
      });
    }
    await this.reportDue;
  }

  /** Sends the observed list (a heartbeat of `instances` only); reports asked for meanwhile are sent after. */
  private report(): Promise<void> {
    if (this.reporting) {
      this.reportAgain = true;
      return this.reporting;
    }
    this.reporting = (async () => {
      do {
        this.reportAgain = false;
        const instances = this.list();
        try {
          const sent = this.monotonic();
          const answer = await this.opts.client.heartbeat({ instances, healing_threshold: this.fence.inForce() }, this.stopping.signal);
          await this.fence.renew(sent, answer);
          this.lastReport = JSON.stringify(instances);
        } catch (err) {
          // The next heartbeat carries the list too.
          if (!this.stopping.signal.aborted) this.log.warn({ err: toError(err).message }, "reporting the observed state failed");
        }
      } while (this.reportAgain && !this.stopping.signal.aborted);
    })().finally(() => {
      this.reporting = null;
    });
    return this.reporting;
  }
}

/** The heartbeat period the service asks for: heartbeat_interval, else a quarter of offline_threshold. */
export function heartbeatInterval(answer: HeartbeatAnswer): number {
  const seconds = answer.heartbeat_interval ?? (answer.offline_threshold ? answer.offline_threshold / 4 : DEFAULT_HEARTBEAT_MS / 1000);
  return Math.min(3600, Math.max(1, Number.isFinite(seconds) ? seconds : 5)) * 1000;
}

/** 1 s, 2 s, 4 s … at most 30 s between retries of the service. */
function retryMs(failures: number): number {
  return Math.min(MAX_RETRY_MS, 1000 * 2 ** Math.min(failures - 1, 10));
}
