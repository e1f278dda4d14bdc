/**
 * Main-thread side of one sandbox worker: spawn, one request at a time, and a wall-clock watchdog.
 * If the worker does not answer in time it is terminated (the caller gets "timeout" at once and
 * never waits for the termination); any death is reported so the pool can replace it.
 */
import { Worker } from "node:worker_threads";
import type { FromWorker, ToWorker, WorkerReply, WorkerRequest } from "./protocol.ts";

const ENTRY = new URL("./workerEntry.mjs", import.meta.url);
const WORKER_STACK_MB = 8;
const START_TIMEOUT_MS = 30_000;

export type RequestResult =
  | { kind: "reply"; reply: WorkerReply }
  | { kind: "timeout"; elapsedMs: number }
  | { kind: "died"; message: string };

interface InFlight {
  id: number;
  timer: NodeJS.Timeout;
  settle: (r: RequestResult) => void;
}

export interface WorkerHooks {
  onReady(w: SandboxWorker): void;
  onIdle(w: SandboxWorker): void;
  onDeath(w: SandboxWorker, message: string, wasReady: boolean): void;
}

let nextRequestId = 1;

export class SandboxWorker {
  private readonly worker: Worker;
  private state: "starting" | "ready" | "dead" = "starting";
  private inFlight: InFlight | null = null;
  private rebuildTimer: NodeJS.Timeout | null = null;
  private startTimer: NodeJS.Timeout | null;
  private lastFatal: string | null = null;
  private doomed = false; // the watchdog fired: about to be terminated
  /** Settles (never rejects) when the worker is ready or dead. */
  readonly settled: Promise<void>;
  private markSettled!: () => void;

  constructor(init: Extract<ToWorker, { t: "init" }>, private readonly hooks: WorkerHooks, private readonly rebuildGuardMs: () => number) {
    this.settled = new Promise((resolve) => (this.markSettled = resolve));
    this.worker = new Worker(ENTRY, { resourceLimits: { stackSizeMb: WORKER_STACK_MB } });
    this.worker.unref(); // an idle pool never keeps the process alive; watchdog timers and the pool's queue do
    this.worker.on("message", (m: FromWorker) => this.onMessage(m));
    this.worker.on("error", (e) => this.die(`worker error: ${e.message}`));
    this.worker.on("exit", (code) => this.die(this.lastFatal ?? `worker exited with code ${code}`));
    this.startTimer = setTimeout(() => this.kill("the worker did not start in time"), START_TIMEOUT_MS);
    this.startTimer.unref();
    this.worker.postMessage(init);
  }

  get ready(): boolean {
    return this.state === "ready";
  }
  get dead(): boolean {
    return this.state === "dead";
  }
  /** Ready and neither answering a request nor rebuilding its session. */
  get idle(): boolean {
    return this.state === "ready" && !this.doomed && this.inFlight === null && this.rebuildTimer === null;
  }

  /** Fire-and-forget messages (deltas, limits, reset); ordered with requests. */
  post(msg: ToWorker): void {
    if (this.state !== "dead") this.worker.postMessage(msg);
  }

  /** Sends one request; the caller must only do so when `idle`. */
  request(msg: WorkerRequest, guardMs: number): Promise<RequestResult> {
    if (!this.idle) throw new Error("SandboxWorker.request called while the worker is not idle");
    const id = nextRequestId++;
    return new Promise((settle) => {
      const timer = setTimeout(() => {
        const elapsedMs = performance.now() - started;
        this.inFlight = null;
        this.doomed = true; // never idle again
        settle({ kind: "timeout", elapsedMs });
        // Answer the caller first; terminating and replacing the worker can wait one turn.
        setImmediate(() => this.kill(`no answer within ${guardMs} ms`));
      }, guardMs);
      const started = performance.now();
      this.inFlight = { id, timer, settle };
      this.worker.postMessage({ ...msg, id } as ToWorker);
    });
  }

  private onMessage(m: FromWorker): void {
    if (m.t === "ready") {
      if (this.startTimer) clearTimeout(this.startTimer);
      this.startTimer = null;
      this.state = "ready";
      this.markSettled();
      this.hooks.onReady(this);
    } else if (m.t === "fatal") {
      this.lastFatal = m.message;
    } else if (m.t === "idle") {
      if (this.rebuildTimer) clearTimeout(this.rebuildTimer);
      this.rebuildTimer = null;
      this.hooks.onIdle(this);
    } else if (m.t === "reply") {
      const job = this.inFlight;
      if (!job || job.id !== m.id) return; // a late answer to a request already timed out
      clearTimeout(job.timer);
      this.inFlight = null;
      if (m.rebuilding) {
        this.rebuildTimer = setTimeout(() => this.kill("session rebuild did not finish in time"), this.rebuildGuardMs());
      }
      job.settle({ kind: "reply", reply: m });
      if (!m.rebuilding) this.hooks.onIdle(this);
    }
  }

  /** Terminates the worker; death is reported through the exit event. */
  kill(reason: string): void {
    if (this.state === "dead") return;
    this.lastFatal ??= reason;
    void this.worker.terminate();
    this.die(reason);
  }

  private die(message: string): void {
    if (this.state === "dead") return;
    const wasReady = this.state === "ready";
    this.state = "dead";
    for (const t of [this.startTimer, this.rebuildTimer]) if (t) clearTimeout(t);
    const job = this.inFlight;
    this.inFlight = null;
    if (job) {
      clearTimeout(job.timer);
      job.settle({ kind: "died", message });
    }
    this.markSettled();
    this.hooks.onDeath(this, message, wasReady);
  }

  /** Stops the worker without reporting a death (closing the pool). */
  async close(): Promise<void> {
    const job = this.inFlight;
    this.inFlight = null;
    if (job) {
      clearTimeout(job.timer);
      job.settle({ kind: "died", message: "the scriptlet sandbox was closed" });
    }
    this.state = "dead";
    for (const t of [this.startTimer, this.rebuildTimer]) if (t) clearTimeout(t);
    this.markSettled();
    await this.worker.terminate();
  }
}
