/**
 * Sandbox worker: owns one QuickJS WASM module, a replica of the cluster data and the installed
 * scriptlet's session. QuickJS runs only here: its stack check assumes a native stack far larger than
 * its own limit, which a worker with `stackSizeMb: 8` guarantees and Node's main thread does not.
 *
 * Messages are handled one at a time in order, so a call sees every delta posted before it. Any
 * exception thrown by QuickJS itself (not a guest exception) is fatal: report it and exit; the main
 * thread replaces the worker. A broken runtime is never disposed.
 */
import { parentPort } from "node:worker_threads";
import { newQuickJSWASMModule } from "quickjs-emscripten";
import { resourceRequest } from "../domain/instanceConfig.ts";
import { toError } from "../domain/errors.ts";
import { CallState, memberUpdates, slotsOf } from "./hostBindings.ts";
import { Replica } from "./replica.ts";
import { VmSession } from "./session.ts";
import type { CallResult } from "./session.ts";
import type { FromWorker, InvalidScriptlet, ToWorker } from "./protocol.ts";
import type { SandboxLimits, ScriptletInstanceResources, ScriptletOutcome, ScriptletRequest } from "./types.ts";

const REJECT_MESSAGE_MAX = 4096;
const port = parentPort!;
const module = await newQuickJSWASMModule(); // a fresh WASM instance: nothing shared with other workers
const replica = new Replica();
let limits: SandboxLimits = { timeoutMs: 200, memoryMb: 32 };
let source = "";
let session: VmSession | null = null;
let sessionInvalid: InvalidScriptlet | null = null; // the installed source failed to load here (kept until it may change)
const testSessions = new Map<number, VmSession>(); // sources under test (not installed), loaded for one call
let sessionsCreated = 0;
let calls = 0;

const post = (m: FromWorker): void => port.postMessage(m);

/**
 * Grows the WASM heap once, up front, to what a scriptlet may use (plus room for a test session):
 * growing it step by step under a memory bomb is slow (seconds on a busy machine), and wasm memory
 * never shrinks, so the freed space is simply reused by later allocations.
 */
let heapReadyMb = 0;
function growHeap(memoryMb: number): void {
  const wanted = 2 * memoryMb + 8;
  if (wanted <= heapReadyMb) return;
  const rt = module.newRuntime();
  const ctx = rt.newContext();
  const r = ctx.evalCode(`new ArrayBuffer(${wanted} * 1024 * 1024).byteLength`, "grow.js", { type: "global" });
  (r.error ?? r.value).dispose();
  ctx.dispose();
  rt.dispose();
  heapReadyMb = wanted;
}

function build(src: string): { session: VmSession } | { invalid: InvalidScriptlet } {
  sessionsCreated++;
  return VmSession.create(module, replica, limits, src);
}

function installed(): VmSession | InvalidScriptlet {
  if (session) return session;
  if (sessionInvalid) return sessionInvalid;
  const built = build(source);
  if ("invalid" in built) return (sessionInvalid = built.invalid);
  return (session = built.session);
}

function uninstall(): void {
  session?.dispose();
  session = null;
  sessionInvalid = null;
}

function resourcesOf(request: ScriptletRequest): ScriptletInstanceResources {
  if (request.resources) return request.resources;
  const r = resourceRequest({ config: request.config ?? {}, devices: request.devices ?? {} });
  return { cpu_cores: r.cpu, memory_size: r.memory, root_disk_size: r.disk };
}

function sameNames(a: string[] | null, b: string[]): boolean {
  if (a === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function cap(text: string): string {
  return text.length > REJECT_MESSAGE_MAX ? `${text.slice(0, REJECT_MESSAGE_MAX)}…` : text;
}

function decide(result: CallResult, call: CallState, started: number): ScriptletOutcome {
  const base = { called: true, logs: call.logs, duration_ms: performance.now() - started };
  if (call.failure !== null) {
    const message = cap(call.failure);
    return { ...base, target: null, rejected: message, error: call.deliberate ? null : message };
  }
  if (!result.ok) return { ...base, target: null, rejected: result.error.text, error: result.error.text };
  if (result.type === "undefined") return { ...base, target: call.target, rejected: null, error: null };
  if (result.type === "string") {
    return { ...base, target: null, rejected: cap(result.value || "Placement rejected by the scriptlet"), error: null };
  }
  const message = `instance_placement returned an unsupported value of type ${result.type}; return nothing to accept the placement or a string to reject it`;
  return { ...base, target: null, rejected: message, error: message };
}

/** Runs one placement; returns the outcome and whether the session must be rebuilt. */
function place(s: VmSession, request: ScriptletRequest, names: string[]): { outcome: ScriptletOutcome; reset: boolean } {
  const started = performance.now();
  const slots = slotsOf(replica, names);
  if (typeof slots === "string") {
    const error = `Candidate member ${slots} is unknown to the scriptlet sandbox (send its member.upsert delta first)`;
    return { outcome: { called: false, target: null, rejected: error, logs: [], duration_ms: 0, error }, reset: false };
  }
  const { resources: _omit, ...visible } = request;
  const updates = memberUpdates(s.env, names);
  // Same candidates as last time and none of them changed: the guest reuses its list.
  const same = updates === "[]" && sameNames(s.env.lastNames, names);
  s.env.lastNames = names;
  const payload = `[${JSON.stringify(visible)},${JSON.stringify(resourcesOf(request))}]`;
  const call = new CallState(names);
  calls++;
  const result = s.call(payload, updates, same ? null : slots, call);
  if (s.broken) throw toError(s.broken);
  return { outcome: decide(result, call, started), reset: !result.ok };
}

function notCalled(invalid: InvalidScriptlet): ScriptletOutcome {
  const error = `The installed scriptlet could not be loaded: ${invalid.message}`;
  return { called: false, target: null, rejected: error, logs: [], duration_ms: 0, error };
}

function handle(msg: ToWorker): void {
  switch (msg.t) {
    case "init":
      replica.reset(msg.replica);
      limits = msg.limits;
      growHeap(limits.memoryMb);
      source = msg.source;
      if (source) installed(); // warm up before the first call
      post({ t: "ready" });
      return;
    case "deltas":
      for (const d of msg.deltas) replica.apply(d);
      return;
    case "reset":
      replica.reset(msg.replica);
      return;
    case "limits":
      limits = msg.limits;
      growHeap(limits.memoryMb);
      session?.setLimits(limits);
      sessionInvalid = null; // may load under the new limits
      return;
    case "install": {
      uninstall();
      source = msg.source;
      const s = source ? installed() : null;
      post({ t: "reply", id: msg.id, invalid: s instanceof VmSession || s === null ? null : s, rebuilding: false });
      return;
    }
    case "validate": {
      const built = build(msg.source);
      if ("session" in built) built.session.dispose();
      post({ t: "reply", id: msg.id, invalid: "invalid" in built ? built.invalid : null, rebuilding: false });
      return;
    }
    case "place": {
      const s = source ? installed() : null;
      if (!(s instanceof VmSession)) {
        const outcome = s ? notCalled(s) : { called: false, target: null, rejected: null, logs: [], duration_ms: 0, error: null };
        post({ t: "reply", id: msg.id, outcome, rebuilding: false });
        return;
      }
      const { outcome, reset } = place(s, msg.request, msg.names);
      if (reset) {
        // A call that threw or hit a limit may have left its own state half-changed: start over.
        s.dispose();
        session = null;
      }
      post({ t: "reply", id: msg.id, outcome, rebuilding: reset });
      if (reset) {
        installed();
        post({ t: "idle" });
      }
      return;
    }
    case "testLoad": {
      const built = build(msg.source);
      if ("session" in built) testSessions.set(msg.token, built.session);
      post({ t: "reply", id: msg.id, invalid: "invalid" in built ? built.invalid : null, rebuilding: false });
      return;
    }
    case "testCall": {
      const s = testSessions.get(msg.token);
      testSessions.delete(msg.token);
      if (!s) {
        const error = "No scriptlet under test is loaded in this worker";
        post({ t: "reply", id: msg.id, outcome: { called: false, target: null, rejected: error, logs: [], duration_ms: 0, error }, rebuilding: false });
        return;
      }
      const { outcome } = place(s, msg.request, msg.names);
      s.dispose();
      post({ t: "reply", id: msg.id, outcome, rebuilding: false });
      return;
    }
    case "stats":
      post({
        t: "reply", id: msg.id, rebuilding: false,
        stats: { quickjs_bytes: session?.memoryUsed() ?? 0, heap_used: process.memoryUsage().heapUsed, sessions_created: sessionsCreated, calls },
      });
      return;
  }
}

port.on("message", (msg: ToWorker) => {
  try {
    handle(msg);
  } catch (e) {
    // QuickJS itself failed (native stack, WASM trap, internal assertion): this runtime is done.
    post({ t: "fatal", message: toError(e).message });
    process.exit(1);
  }
});
