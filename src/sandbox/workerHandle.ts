/**
 * Main-thread side of one sandbox worker: spawn, one request at a time, and a wall-clock watchdog.
 * If the worker does not answer in time it is terminated (the caller gets "timeout" at once and
 * never waits for the termination); any death is reported so the pool can replace it.
 *
 * Messages go to a private port and ring the worker's doorbell; calls go through the shared
 * channel when they fit (channel.ts). The main thread never blocks on the worker.
 */
import { MessageChannel, Worker } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";
import { pathToFileURL } from "node:url";
import { Channel } from "./channel.ts";
import { encodePlaceCall } from "./placeCall.ts";
import { CandidateIds } from "./ranking.ts";
import type { FromWorker, ToWorker, WorkerData, WorkerReply, WorkerRequest } from "./protocol.ts";

// Compiled (dist/), the worker is plain worker.js. From source (vitest, tsx) it is worker.ts, which a
// worker thread cannot load by itself (it does not inherit the loader hooks): workerEntry.mjs loads it
// through tsx, which costs ~0.6 s a worker. The test run points BERTH_SANDBOX_WORKER at the compiled
// worker when the build is newer than the source (test/support/globalSetup.ts).
const ENTRY = process.env.BERTH_SANDBOX_WORKER ? pathToFileURL(process.env.BERTH_SANDBOX_WORKER)
  : import.meta.url.endsWith(".ts") ? new URL("./workerEntry.mjs", import.meta.url) : new URL("./worker.js", import.meta.url);
const WORKER_STACK_MB = 8;
const START_TIMEOUT_MS = 30_000;
const EAGER_POLL_MS = 1; // the main thread checks for the reply on every event-loop turn at least this long
const EAGER_POLL_MAX_MS = 5; // and at most this long (a longer call wakes it through Atomics.waitAsync)
const EAGER_SPIN_US = 300; // the worker checks for the next call this long before sleeping

export type RequestResult =
  | { kind: "reply"; reply: WorkerReply }
  | { kind: "timeout"; elapsedMs: number }
  | { kind: "died"; message: string };

interface InFlight {
  id: number;
  seq: number; // its channel sequence number, or 0 when it was posted
  timer: NodeJS.Timeout;
  settle: (r: RequestResult) => void;
}

export interface WorkerHooks {
  onReady(w: SandboxWorker): void;
  onIdle(w: SandboxWorker): void;
  onDeath(w: SandboxWorker, message: string, wasReady: boolean): void;
}

let nextRequestId = 1;

function sameNames(a: string[] | null, b: string[]): boolean {
  if (a === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class SandboxWorker {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly channel = new Channel();
  private posted = 0; // messages posted to the port (wraps; calls carry it)
  private seq = 0; // the last call sent through the channel
  private lastNames: string[] | null = null; // the candidates of the last place call sent
  private readonly candidateIds = new CandidateIds();
  private lastCallMs = 0; // how long the last call through the channel took
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
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const workerData: WorkerData = { buffer: this.channel.buffer, port: port2 };
    this.worker = new Worker(ENTRY, { resourceLimits: { stackSizeMb: WORKER_STACK_MB }, workerData, transferList: [port2] });
    this.worker.unref(); // an idle pool never keeps the process alive; watchdog timers and the pool's queue do
    this.worker.on("message", (m: FromWorker) => this.onMessage(m));
    this.worker.on("error", (e) => this.die(`worker error: ${e.message}`));
    this.worker.on("exit", (code) => this.die(this.lastFatal ?? `worker exited with code ${code}`));
    this.startTimer = setTimeout(() => this.kill("the worker did not start in time"), START_TIMEOUT_MS);
    this.startTimer.unref();
    this.post(init);
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

  /** A request is in flight. */
  get busy(): boolean {
    return this.inFlight !== null;
  }

  /** Fire-and-forget messages (deltas, limits, reset); ordered with requests. */
  post(msg: ToWorker): void {
    if (this.state === "dead") return;
    this.port.postMessage(msg);
    this.posted = (this.posted + 1) | 0;
    this.channel.ring();
  }

  /**
   * Sends one request; the caller must only do so when `idle`. `eager()` says whether a core is
   * free for it (asked with this request counted as busy, and again as polling goes on): then the
   * main thread polls for the reply and the worker polls for the next call for a moment after
   * answering, instead of both sleeping at once — waking a sleeping thread costs 50–100 µs each
   * way on a VM.
   */
  request(msg: WorkerRequest, guardMs: number, eager: (() => boolean) | null = null): Promise<RequestResult> {
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
      let full = { ...msg, id } as ToWorker;
      let ids: Uint32Array | null = null;
      let fresh: string[] | null = null;
      if (full.t === "place" && full.names !== null) {
        // The same ranking as this worker's last place call (common): say so instead of sending it.
        if (sameNames(this.lastNames, full.names)) full = { ...full, names: null };
        else {
          this.lastNames = full.names.slice();
          fresh = [];
          ids = this.candidateIds.of(full.names, fresh);
          if (fresh.length > 0) full = { ...full, fresh }; // the worker learns them whichever way the call goes
          else fresh = null;
        }
      }
      const seq = (this.seq + 1) | 0 || 1; // 0 means "posted"
      const call = msg.t === "place" || msg.t === "testCall";
      // A place call goes as text the worker hands to QuickJS unparsed (placeCall.ts); the rest as JSON.
      const text = full.t === "place" ? encodePlaceCall(id, fresh, full.request) : JSON.stringify(full);
      this.inFlight = { id, seq, timer, settle }; // busy from here (eager() counts it)
      const polling = call && eager !== null && eager();
      if (call && this.channel.sendCall(seq, this.posted, text, polling ? EAGER_SPIN_US : 0, ids)) {
        const previous = this.seq;
        this.seq = seq;
        // Poll for about as long as the last call took (at least EAGER_POLL_MS, at most
        // EAGER_POLL_MAX_MS), and only while a core stays free for it: polling yields to I/O on
        // every turn, so the service keeps answering; it only spends an otherwise idle core.
        const poll = polling ? Math.min(EAGER_POLL_MAX_MS, Math.max(EAGER_POLL_MS, 1.5 * this.lastCallMs)) : 0;
        this.channel.onReply(previous, poll, 2 * guardMs + 1000, () => this.onChannelReply(seq, started), eager);
      } else {
        this.inFlight = { id, seq: 0, timer, settle };
        this.post(full); // not a call, or too big for the channel: names and all
      }
    });
  }

  private onChannelReply(seq: number, started: number): void {
    if (this.state === "dead" || this.inFlight?.seq !== seq) return; // timed out, or the worker died
    this.lastCallMs = performance.now() - started;
    const json = this.channel.readReply(seq);
    if (json !== null) this.onMessage(JSON.parse(json) as WorkerReply); // null: it was posted instead
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
    this.port.close();
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
    this.port.close();
    await this.worker.terminate();
  }
}
