/**
 * Sandbox worker: a replica of the cluster data, the installed scriptlet's session and sessions under
 * test. QuickJS runs only here: its stack check assumes a native stack far larger than its own
 * limit, which a worker with `stackSizeMb: 8` guarantees and Node's main thread does not.
 *
 * Messages are handled one at a time, in order (a promise chain, as building a session is async),
 * so a call sees every delta posted before it. An exception thrown by QuickJS itself (not a guest
 * exception) is fatal: report it and exit; the main thread replaces the worker.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { parentPort } from "node:worker_threads";
import { toError } from "../domain/errors.ts";
import { notCalled, place } from "./placement.ts";
import { Replica } from "./replica.ts";
import { VmSession } from "./session.ts";
import type { FromWorker, InvalidScriptlet, ToWorker } from "./protocol.ts";
import type { SandboxLimits, ScriptletRequest } from "./types.ts";

const port = parentPort!;
const replica = new Replica();
let limits: SandboxLimits = { timeoutMs: 200, memoryMb: 32 };
let source = "";
let session: VmSession | null = null;
let sessionInvalid: InvalidScriptlet | null = null; // the installed source failed to load here (until it may change)
const testSessions = new Map<number, VmSession>(); // sources under test, loaded for one call
const counters = { sessions_created: 0, calls: 0, dispose_failures: 0 };

const post = (m: FromWorker): void => port.postMessage(m);

/**
 * A full GC: dropped sessions' WASM heaps (up to memoryMb each, and a bomb touches all of it) are
 * external memory V8 frees lazily; after a failed call, and before measuring, free them now.
 */
let gc: (() => void) | null = null;
function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as () => void;
  }
  gc();
}

async function build(src: string): Promise<{ session: VmSession } | { invalid: InvalidScriptlet }> {
  counters.sessions_created++;
  return VmSession.create(replica, limits, src);
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
  const built = await VmSession.create(new Replica(), { timeoutMs: 1000, memoryMb: 16 }, WARM_UP_SOURCE);
  if (!("session" in built)) return;
  const until = performance.now() + WARM_UP_MS;
  for (let i = 0; i < 50 && performance.now() < until; i++) place(built.session, replica, WARM_UP_REQUEST, [], limits);
  drop(built.session);
}
const WARM_UP_MS = 300;
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

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.t) {
    case "init":
      replica.reset(msg.replica);
      limits = msg.limits;
      source = msg.source;
      await warmUp();
      if (source) await installed();
      post({ t: "ready" });
      return;
    case "deltas":
      for (const d of msg.deltas) replica.apply(d);
      return;
    case "reset":
      replica.reset(msg.replica);
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
    case "place": {
      const s = source ? await installed() : null;
      if (!(s instanceof VmSession)) {
        const outcome = notCalled(s ? `The installed scriptlet could not be loaded: ${s.message}` : null);
        post({ t: "reply", id: msg.id, outcome, rebuilding: false });
        return;
      }
      counters.calls++;
      const { outcome, reset } = place(s, replica, msg.request, msg.names, limits);
      post({ t: "reply", id: msg.id, outcome, rebuilding: reset });
      if (reset) {
        // Off the call's clock (freeing a bomb's heap takes a while too): the pool waits for "idle".
        session = null;
        drop(s);
        collectGarbage();
        await installed();
        post({ t: "idle" });
      }
      return;
    }
    case "testLoad": {
      const built = await build(msg.source);
      if ("session" in built) testSessions.set(msg.token, built.session);
      post({ t: "reply", id: msg.id, invalid: "invalid" in built ? built.invalid : null, rebuilding: false });
      return;
    }
    case "testCall": {
      const s = testSessions.get(msg.token);
      testSessions.delete(msg.token);
      const outcome = s ? place(s, replica, msg.request, msg.names, limits).outcome : notCalled("No scriptlet under test is loaded in this worker");
      post({ t: "reply", id: msg.id, outcome, rebuilding: false });
      drop(s ?? null);
      return;
    }
    case "stats":
      if (msg.gc) collectGarbage();
      post({
        t: "reply", id: msg.id, rebuilding: false,
        stats: { ...counters, quickjs_bytes: session?.memoryUsed() ?? 0, heap_used: process.memoryUsage().heapUsed },
      });
      return;
  }
}

let queue = Promise.resolve();
port.on("message", (msg: ToWorker) => {
  queue = queue.then(() => handle(msg)).catch((e: unknown) => {
    // QuickJS itself failed (native stack, WASM trap, internal assertion): this runtime is done.
    post({ t: "fatal", message: toError(e).message });
    process.exit(1);
  });
});
