/**
 * Sandbox worker: a replica of the cluster data, the installed scriptlet's session and sessions under
 * test. QuickJS runs only here: its stack check assumes a native stack far larger than its own
 * limit, which a worker with `stackSizeMb: 8` guarantees and Node's main thread does not.
 *
 * The worker serves one thing at a time, in order: port messages (read synchronously) and calls
 * written into the shared channel (channel.ts). With nothing to do it blocks in Atomics.wait, so a
 * call starts without an event-loop turn; it goes back to the event loop only to build a session
 * (async) and now and then, so Node's own tasks still run. An exception thrown by QuickJS itself
 * (not a guest exception) is fatal: report it and exit; the main thread replaces the worker.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import { toError } from "../domain/errors.ts";
import { Channel } from "./channel.ts";
import { decodePlaceCall } from "./placeCall.ts";
import { notCalled, place } from "./placement.ts";
import { Ranking } from "./ranking.ts";
import { Replica } from "./replica.ts";
import { heapsNotYetCollected, VmSession } from "./session.ts";
import type { FromWorker, InvalidScriptlet, ToWorker, WorkerData, WorkerReply } from "./protocol.ts";
import type { SandboxLimits, ScriptletRequest } from "./types.ts";

// QuickJS is an interpreter compiled with -Oz: many small functions that stay calls. Letting V8's
// optimising tier inline WASM into WASM makes guest code ~20-30 % faster (bench/scriptlet). V8 flags
// are per process and read when code is compiled: set before this worker compiles QuickJS (the
// main thread never does; it only runs QuickJS-free code).
setFlagsFromString("--wasm-inlining");
const { buffer, port } = workerData as WorkerData;
const channel = new Channel(buffer);
const replica = new Replica();
let limits: SandboxLimits = { timeoutMs: 200, memoryMb: 32 };
let source = "";
let session: VmSession | null = null;
let sessionInvalid: InvalidScriptlet | null = null; // the installed source failed to load here (until it may change)
const ranking = new Ranking(); // the candidates of the last place call (a call may say "the same")
const testSessions = new Map<number, VmSession>(); // sources under test, loaded for one call
const counters = { sessions_created: 0, calls: 0, dispose_failures: 0 };

const post = (m: FromWorker): void => parentPort!.postMessage(m);

/**
 * A full GC: dropped sessions' WASM heaps (up to memoryMb each, and a bomb touches all of it) are
 * external memory V8 frees lazily; after a failed call, and before measuring, free them now.
 */
let gc: (() => void) | null = null;
/** Set where a dropped session may have filled its heap; the serving loop collects once the handler has returned (while it runs, its locals still hold the session). */
let collectSoon = false;
function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as () => void;
  }
  gc();
}

/**
 * Collects until every disposed session's heap is gone (after a failure only: a failed call or
 * load may have filled its heap). quickjs-emscripten lets go of a module from finalizers, which run
 * as tasks after a collection, so one collection is not always enough; on a busy machine it takes
 * a few turns. Bounded, so a heap something still holds cannot stall the worker.
 */
async function collectDroppedHeaps(): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    collectGarbage();
    if (heapsNotYetCollected() === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function build(src: string): Promise<{ session: VmSession } | { invalid: InvalidScriptlet }> {
  counters.sessions_created++;
  const built = await VmSession.create(replica, limits, src);
  // A source whose top-level code failed may have filled its heap (a bomb at load time): give the
  // memory back now, as after a failed call, instead of whenever V8 next collects.
  if ("invalid" in built) collectSoon = true;
  return built;
}

function drop(s: VmSession | null): void {
  if (s && !s.dispose()) counters.dispose_failures++;
}

async function installed(): Promise<VmSession | InvalidScriptlet> {
  if (session) return session;
  if (sessionInvalid) return sessionInvalid;
  const built = await build(source);
  if ("invalid" in built) return (sessionInvalid = built.invalid);
  return (session = built.session);
}

/**
 * Runs a throwaway scriptlet for a moment before the worker says it is ready: V8 compiles WASM
 * lazily and optimises what runs hot, so a cold QuickJS is several times slower — which would
 * otherwise be paid by the first real calls, against their time limit. (Compiled code is shared by
 * every later instance of the module in this process.)
 */
async function warmUp(): Promise<void> {
  if (!(WARM_UP_MS > 0)) return;
  const built = await VmSession.create(new Replica(), { timeoutMs: 1000, memoryMb: 16 }, WARM_UP_SOURCE);
  if (!("session" in built)) return;
  const until = performance.now() + WARM_UP_MS;
  const none = new Ranking();
  none.setNames([]);
  for (let i = 0; i < 50 && performance.now() < until; i++) place(built.session, replica, WARM_UP_REQUEST, none, limits);
  drop(built.session);
}
// A worker warms QuickJS and V8 up this long before it is ready (the tests, which start many, skip it).
const WARM_UP_MS = Number(process.env.BERTH_SANDBOX_WARM_UP_MS ?? 300);
const WARM_UP_SOURCE = `function instance_placement(request, candidate_members) {
  const seen = {};
  for (let i = 0; i < 5000; i++) seen["k" + (i % 97)] = [i, String(i), { i }];
  log_info(JSON.stringify(seen).length, get_instances().length, candidate_members.length);
  return Object.keys(seen).sort().join(",");
}`;
const WARM_UP_REQUEST: ScriptletRequest = {
  name: "warm-up", project: "default", type: "container", reason: "new", architecture: "x86_64",
  config: {}, devices: {}, profiles: [], description: "",
};

function uninstall(): void {
  drop(session);
  session = null;
  sessionInvalid = null;
}

/** Answers a request: through the channel when it came that way (`seq`), else posted. */
function reply(seq: number, r: WorkerReply): void {
  if (seq === 0 || !channel.sendReply(seq, JSON.stringify(r))) post(r);
}

/** Handles one message; returns a promise only when it has async work (building a session). */
function handle(msg: ToWorker, seq: number): Promise<void> | void {
  switch (msg.t) {
    case "deltas":
      for (const d of msg.deltas) replica.apply(d);
      return;
    case "reset":
      replica.reset(msg.replica);
      return;
    case "place":
    case "placeText":
      if (msg.fresh) ranking.learn(msg.fresh);
      if (msg.t === "place" && msg.names !== null) ranking.setNames(msg.names);
      else if (seq !== 0) {
        const ids = channel.readCallIds();
        if (ids) ranking.setIds(ids);
      }
      if (session || !source) return placeOn(session, msg, seq);
      return installed().then((s) => placeOn(s, msg, seq));
    case "testCall": {
      const s = testSessions.get(msg.token);
      testSessions.delete(msg.token);
      const candidates = new Ranking();
      candidates.setNames(msg.names);
      const result = s ? place(s, replica, msg.request, candidates, limits) : null;
      reply(seq, { t: "reply", id: msg.id, outcome: result?.outcome ?? notCalled("No scriptlet under test is loaded in this worker"), rebuilding: false });
      drop(s ?? null);
      if (result?.reset) collectSoon = true; // a failed call may have filled its heap: give it back now
      return;
    }
    case "stats":
      if (msg.gc) collectGarbage();
      reply(seq, {
        t: "reply", id: msg.id, rebuilding: false,
        stats: { ...counters, quickjs_bytes: session?.memoryUsed() ?? 0, heap_used: process.memoryUsage().heapUsed },
      });
      return;
    default:
      return handleAsync(msg);
  }
}

function placeOn(s: VmSession | InvalidScriptlet | null, msg: Extract<ToWorker, { t: "place" | "placeText" }>, seq: number): Promise<void> | void {
  if (!(s instanceof VmSession)) {
    const outcome = notCalled(s ? `The installed scriptlet could not be loaded: ${s.message}` : null);
    reply(seq, { t: "reply", id: msg.id, outcome, rebuilding: false });
    return;
  }
  counters.calls++;
  const { outcome, reset } = place(s, replica, msg.request, ranking, limits);
  reply(seq, { t: "reply", id: msg.id, outcome, rebuilding: reset });
  if (reset) return rebuild(s);
}

/** After a failed call, off the call's clock (freeing a bomb's heap takes a while too): the pool waits for "idle". */
async function rebuild(failed: VmSession): Promise<void> {
  session = null;
  drop(failed);
  collectSoon = true;
  await installed();
  post({ t: "idle" });
}

async function handleAsync(msg: Exclude<ToWorker, { t: "deltas" | "reset" | "place" | "placeText" | "testCall" | "stats" }>): Promise<void> {
  switch (msg.t) {
    case "init":
      replica.reset(msg.replica);
      limits = msg.limits;
      source = msg.source;
      await warmUp();
      if (source) await installed();
      post({ t: "ready" });
      return;
    case "limits": {
      const heapChanged = msg.limits.memoryMb !== limits.memoryMb;
      limits = msg.limits;
      if (heapChanged) uninstall(); // each session's heap is fixed: rebuild under the new size
      else session?.setTimeout(limits.timeoutMs);
      sessionInvalid = null; // may load under the new limits
      if (source) await installed();
      post({ t: "reply", id: msg.id, rebuilding: false });
      return;
    }
    case "install": {
      uninstall();
      source = msg.source;
      const s = source ? await installed() : null;
      post({ t: "reply", id: msg.id, invalid: s instanceof VmSession || s === null ? null : s, rebuilding: false });
      return;
    }
    case "validate": {
      const built = await build(msg.source);
      if ("session" in built) drop(built.session);
      post({ t: "reply", id: msg.id, invalid: "invalid" in built ? built.invalid : null, rebuilding: false });
      return;
    }
    case "testLoad": {
      const built = await build(msg.source);
      if ("session" in built) testSessions.set(msg.token, built.session);
      post({ t: "reply", id: msg.id, invalid: "invalid" in built ? built.invalid : null, rebuilding: false });
      return;
    }
  }
}

// ---- the serving loop ----

const IDLE_WAIT_MS = 500; // an idle worker still gives the event loop a turn this often
const EVENT_LOOP_EVERY_MS = 100; // Node's own tasks (timers, GC finalisation) get a turn at least this often
let taken = 0; // port messages handled so far (wraps like the channel's counters)
let held: ToWorker | null = null; // a port message read just after a call it was posted after
let answered = 0; // the last call taken from the channel
let lastTurn = performance.now();

/**
 * The next message: the channel's call as soon as every port message posted before it is handled,
 * else the next port message. Null: time for an event-loop turn. A message read from the port after
 * a call was written may have been posted after it (the call is then visible): it waits in `held`.
 */
function next(): { msg: ToWorker; seq: number } | null {
  for (;;) {
    if (performance.now() - lastTurn > EVENT_LOOP_EVERY_MS) return null;
    const seen = channel.wakes();
    const call = takeCall();
    if (call) return call;
    let msg = held;
    held = null;
    if (msg === null) {
      const m = receiveMessageOnPort(port);
      if (m) {
        msg = m.message as ToWorker;
        const after = takeCall();
        if (after) {
          held = msg;
          return after;
        }
      }
    }
    if (msg !== null) {
      taken = (taken + 1) | 0;
      return { msg, seq: 0 };
    }
    if (spinUntil > 0 && spin(seen)) continue;
    spinUntil = 0;
    if (!channel.wait(seen, IDLE_WAIT_MS)) return null;
  }
}

let spinFor = 0; // µs to spin after answering the current call (the main thread's hint)
let spinUntil = 0;
/** Polls for the main thread's next ring until spinUntil: waking from Atomics.wait costs far more. */
function spin(seen: number): boolean {
  while (performance.now() < spinUntil) if (channel.wakes() !== seen) return true;
  return false;
}

function takeCall(): { msg: ToWorker; seq: number } | null {
  const call = channel.pendingCall(answered);
  if (!call || call.posted !== taken) return null;
  answered = call.seq;
  spinFor = channel.spinUs();
  const text = channel.readCall();
  const place = decodePlaceCall(text);
  return { msg: place ? { t: "placeText", ...place } : (JSON.parse(text) as ToWorker), seq: call.seq };
}

async function serve(): Promise<void> {
  for (;;) {
    const job = next();
    if (job === null) {
      await new Promise((resolve) => setImmediate(resolve));
      lastTurn = performance.now();
      continue;
    }
    const pending = handle(job.msg, job.seq);
    if (job.seq !== 0 && spinFor > 0) spinUntil = performance.now() + spinFor / 1000;
    if (pending) {
      await pending;
      lastTurn = performance.now();
    }
    if (collectSoon) {
      collectSoon = false;
      await collectDroppedHeaps();
      lastTurn = performance.now();
    }
  }
}

serve().catch((e: unknown) => {
  // QuickJS itself failed (native stack, WASM trap, internal assertion): this runtime is done.
  post({ t: "fatal", message: toError(e).message });
  process.exit(1);
});
