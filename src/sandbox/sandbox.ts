/**
 * ScriptletSandbox: the main-thread face of the scriptlet runtime. A small pool of workers each
 * keeps a replica of the cluster data (fed by deltas) and the installed scriptlet; a placement
 * sends only the request and the ranked candidate names. The main thread never runs guest code, so
 * a runaway scriptlet costs its own placement and nothing else.
 */
import { availableParallelism } from "node:os";
import { Replica } from "./replica.ts";
import { SandboxWorker } from "./workerHandle.ts";
import type { RequestResult } from "./workerHandle.ts";
import type { ToWorker, WorkerReply, WorkerRequest, WorkerStats } from "./protocol.ts";
import { ScriptletError } from "./types.ts";
import type {
  ReplicaDelta, ReplicaSnapshot, SandboxLimits, ScriptletLogEvent, ScriptletOutcome, ScriptletRequest,
} from "./types.ts";

export interface ScriptletSandboxOptions extends SandboxLimits {
  /** Workers in the pool; default max(2, min(4, cores - 1)) so one can be replaced while another serves. */
  poolSize?: number;
  /** Every log line of an installed-scriptlet placement, for the service log and event stream. */
  onLog?: (event: ScriptletLogEvent) => void;
  /**
   * Extra wall-clock time before the watchdog kills a worker that overran timeoutMs (default: half
   * the limit, at least 100 ms). The worker's own interrupt ends a runaway at the limit; the watchdog
   * is for what the interrupt cannot stop, and a tight margin made it kill healthy workers that a
   * loaded machine had merely descheduled (or that were still rebuilding after a runaway).
   */
  watchdogMarginMs?: number;
  /** Spend a little CPU on latency when a core is free for it (default true; see workerHandle.ts). */
  eager?: boolean;
}

interface Job {
  msg: WorkerRequest;
  guardMs: number;
  worker: SandboxWorker | null; // a job for one particular worker (install), or any
  settle: (answer: [RequestResult, SandboxWorker | null]) => void; // the result, and which worker gave it
}

const MAX_START_FAILURES = 3;
let nextTestToken = 1;

export function defaultPoolSize(): number {
  return Math.max(2, Math.min(4, availableParallelism() - 1));
}

export class ScriptletSandbox {
  private readonly workers: SandboxWorker[] = [];
  private readonly queue: Job[] = [];
  private readonly mirror = new Replica();
  private pendingDeltas: ReplicaDelta[] = [];
  private flushScheduled = false;
  private source = "";
  private limits: SandboxLimits;
  private readonly margin: number;
  private startFailures = 0;
  private lastStartError = "";
  private closed = false;
  private restarts = 0;
  private cursor = 0;
  private keepAlive: NodeJS.Timeout | null = null;
  private readonly cores = availableParallelism();

  constructor(private readonly opts: ScriptletSandboxOptions) {
    this.limits = { timeoutMs: opts.timeoutMs, memoryMb: opts.memoryMb };
    this.margin = opts.watchdogMarginMs ?? -1;
    const size = Math.max(1, opts.poolSize ?? defaultPoolSize());
    for (let slot = 0; slot < size; slot++) this.workers.push(this.spawn());
  }

  private spawn(): SandboxWorker {
    this.flushDeltas(); // the snapshot below already contains them
    const init = { t: "init" as const, replica: this.mirror.snapshot(), source: this.source, limits: this.limits };
    return new SandboxWorker(init, {
      onReady: () => {
        this.startFailures = 0;
        this.pump();
      },
      onIdle: () => this.pump(),
      onDeath: (w, message, wasReady) => this.replace(w, message, wasReady),
    }, () => 2 * this.limits.timeoutMs + 1000);
  }

  private replace(dead: SandboxWorker, message: string, wasReady: boolean): void {
    if (this.closed) return;
    const slot = this.workers.indexOf(dead);
    if (slot < 0) return;
    this.restarts++;
    for (const job of this.queue.filter((j) => j.worker === dead)) {
      // A replacement starts from the current source and replica, so per-worker jobs are moot.
      this.queue.splice(this.queue.indexOf(job), 1);
      job.settle([{ kind: "died", message }, null]);
    }
    if (!wasReady) {
      this.startFailures++;
      this.lastStartError = message;
      if (this.startFailures >= MAX_START_FAILURES) this.failQueued(`The scriptlet sandbox cannot start its workers: ${message}`);
    }
    const delay = wasReady ? 0 : Math.min(5000, 100 * 2 ** this.startFailures);
    const respawn = () => {
      if (this.closed || this.workers[slot] !== dead) return;
      this.workers[slot] = this.spawn();
    };
    if (delay === 0) respawn();
    else setTimeout(respawn, delay).unref();
    this.pump();
  }

  private failQueued(message: string): void {
    for (const job of this.queue.splice(0)) job.settle([{ kind: "died", message }, null]);
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = null;
  }

  private flushDeltas(): void {
    if (this.pendingDeltas.length === 0) return;
    const msg: ToWorker = { t: "deltas", deltas: this.pendingDeltas };
    this.pendingDeltas = [];
    for (const w of this.workers) w.post(msg);
  }

  private broadcast(msg: ToWorker): void {
    this.flushDeltas();
    for (const w of this.workers) w.post(msg);
  }

  /** Hands queued jobs to idle workers, in order, round-robin. */
  private pump(): void {
    if (this.closed) return;
    this.flushDeltas();
    for (let i = 0; i < this.queue.length;) {
      const job = this.queue[i];
      const worker = job.worker ?? this.pickIdle();
      if (!worker || !worker.idle) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      void worker.request(job.msg, job.guardMs, this.eagerCheck).then((r) => job.settle([r, worker]));
    }
    // Workers are unref'd; a job waiting for one (e.g. still starting) must keep the process alive.
    if (this.queue.length > 0) this.keepAlive ??= setInterval(() => {}, 60_000);
    else if (this.keepAlive) {
      clearInterval(this.keepAlive);
      this.keepAlive = null;
    }
  }

  /** A core is free for polling: the main thread and the workers in a request fit (asked as polling goes on). */
  private readonly eagerCheck = (): boolean => this.eager();
  private eager(): boolean {
    let busy = 1; // the main thread
    for (const w of this.workers) if (w.busy) busy++;
    return this.opts.eager !== false && busy <= this.cores;
  }

  private pickIdle(): SandboxWorker | null {
    for (let k = 0; k < this.workers.length; k++) {
      const w = this.workers[(this.cursor + k) % this.workers.length];
      if (w.idle && !this.queue.some((j) => j.worker === w)) {
        this.cursor = (this.cursor + k + 1) % this.workers.length;
        return w;
      }
    }
    return null;
  }

  private async run(msg: WorkerRequest, guardMs: number, worker: SandboxWorker | null = null): Promise<RequestResult> {
    return (await this.runOn(msg, guardMs, worker))[0];
  }

  /** Queues a request (for `worker`, or the next idle one) and tells which worker answered. */
  private runOn(msg: WorkerRequest, guardMs: number, worker: SandboxWorker | null): Promise<[RequestResult, SandboxWorker | null]> {
    if (this.closed) return died("The scriptlet sandbox is closed");
    if (worker?.dead) return died("the worker was replaced");
    if (this.startFailures >= MAX_START_FAILURES && !this.workers.some((w) => w.ready)) {
      return died(`The scriptlet sandbox cannot start its workers: ${this.lastStartError}`);
    }
    return new Promise<[RequestResult, SandboxWorker | null]>((resolve) => {
      this.queue.push({ msg, guardMs, worker, settle: resolve });
      this.pump();
    });
  }

  private get callGuardMs(): number {
    const margin = this.margin >= 0 ? this.margin : Math.max(100, this.limits.timeoutMs / 2);
    return this.limits.timeoutMs + margin;
  }
  private get loadGuardMs(): number {
    return 2 * this.limits.timeoutMs + 1000; // bootstrap + top-level + lockdown (+ one call for test)
  }

  // ---- public API ----

  /** New limits for later calls (queued on every worker; a new memoryMb rebuilds the installed session). */
  setLimits(limits: SandboxLimits): void {
    this.limits = { timeoutMs: limits.timeoutMs, memoryMb: limits.memoryMb };
    for (const w of this.workers) void this.run({ t: "limits", limits: this.limits }, this.loadGuardMs, w);
  }

  /** Validates and installs `source` on every worker; "" uninstalls. Throws ScriptletError and keeps the old one if invalid. */
  async install(source: string): Promise<void> {
    if (source.trim() !== "") {
      const checked = await this.run({ t: "validate", source }, this.loadGuardMs);
      throwIfInvalid(checked, this.limits.timeoutMs);
    }
    this.source = source.trim() === "" ? "" : source;
    const installs = this.workers.map((w) => this.run({ t: "install", source: this.source }, this.loadGuardMs, w));
    await Promise.all(installs); // a worker that fails here reports it on each call; a dead one restarts with the source
  }

  installed(): boolean {
    return this.source !== "";
  }

  /** Runs the installed scriptlet for one placement; never throws for anything the scriptlet does. */
  async place(request: ScriptletRequest, candidateNames: string[]): Promise<ScriptletOutcome> {
    if (!this.installed()) return { called: false, target: null, rejected: null, logs: [], duration_ms: 0, error: null };
    const outcome = toOutcome(await this.run({ t: "place", request, names: candidateNames }, this.callGuardMs), this.limits.timeoutMs);
    if (this.opts.onLog) {
      for (const log of outcome.logs) {
        try {
          this.opts.onLog({ ...log, instance: request.name, project: request.project, reason: request.reason });
        } catch {
          // a failing log sink must not fail the placement
        }
      }
    }
    return outcome;
  }

  /** Runs a given (not installed) source once against the live replica. Throws ScriptletError if it is invalid. */
  async test(source: string, request: ScriptletRequest, candidateNames: string[]): Promise<ScriptletOutcome> {
    const token = nextTestToken++;
    const [loaded, worker] = await this.runOn({ t: "testLoad", token, source }, this.loadGuardMs, null);
    throwIfInvalid(loaded, this.limits.timeoutMs);
    const called = await this.run({ t: "testCall", token, request, names: candidateNames }, this.callGuardMs, worker);
    return toOutcome(called, this.limits.timeoutMs);
  }

  applyDelta(delta: ReplicaDelta): void {
    this.mirror.apply(delta);
    this.pendingDeltas.push(delta);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => {
        this.flushScheduled = false;
        this.flushDeltas();
      });
    }
  }

  reset(replica: ReplicaSnapshot): void {
    this.pendingDeltas = [];
    this.mirror.reset(replica);
    this.broadcast({ t: "reset", replica });
  }

  /** Resolves once every worker slot has a started worker (useful at service start and in tests). */
  async ready(): Promise<void> {
    for (;;) {
      const current = [...this.workers];
      await Promise.all(current.map((w) => w.settled));
      if (this.closed || current.every((w, i) => w.ready && this.workers[i] === w)) return;
      if (this.startFailures >= MAX_START_FAILURES) throw new Error(`The scriptlet sandbox cannot start its workers: ${this.lastStartError}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Per-worker counters and memory; `gc` first runs a full garbage collection in each worker (tests, diagnostics). */
  async stats(gc = false): Promise<{ restarts: number; queued: number; workers: (WorkerStats | null)[] }> {
    const workers = await Promise.all(this.workers.map(async (w) => {
      const r = await this.run({ t: "stats", gc }, 5000, w);
      return r.kind === "reply" ? r.reply.stats ?? null : null;
    }));
    return { restarts: this.restarts, queued: this.queue.length, workers };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failQueued("The scriptlet sandbox is closed");
    await Promise.all(this.workers.map((w) => w.close()));
  }
}

function died(message: string): Promise<[RequestResult, null]> {
  return Promise.resolve([{ kind: "died", message }, null]);
}

function failed(message: string, elapsedMs = 0): ScriptletOutcome {
  return { called: true, target: null, rejected: message, logs: [], duration_ms: elapsedMs, error: message };
}

function toOutcome(r: RequestResult, timeoutMs: number): ScriptletOutcome {
  if (r.kind === "timeout") return failed(`Scriptlet exceeded its time limit of ${timeoutMs} ms (stopped by the watchdog)`, r.elapsedMs);
  if (r.kind === "died") {
    return failed(r.message.startsWith("The scriptlet sandbox") ? r.message : `The scriptlet sandbox failed while running the scriptlet and was restarted: ${r.message}`);
  }
  return r.reply.outcome ?? failed("The scriptlet sandbox returned no outcome");
}

function throwIfInvalid(r: RequestResult, timeoutMs: number): void {
  if (r.kind === "timeout") throw new ScriptletError(`Scriptlet top-level code did not finish within its time limit of ${timeoutMs} ms`);
  if (r.kind === "died") throw new ScriptletError(`The scriptlet crashed the sandbox while loading: ${r.message}`);
  const invalid: WorkerReply["invalid"] = r.reply.invalid;
  if (invalid) {
    const at = invalid.line !== null && !invalid.message.includes(`line ${invalid.line}:`) ? ` (line ${invalid.line}:${invalid.column})` : "";
    throw new ScriptletError(`Invalid scriptlet: ${invalid.message}${at}`, invalid.line, invalid.column);
  }
}
