/**
 * One scriptlet loaded in its own QuickJS WASM instance: bootstrap, top-level code, validation,
 * lockdown, then any number of calls. Lives inside a worker only (see worker.ts for why).
 *
 * Memory: QuickJS's own limit only bounds single allocations in this build (quickjs-emscripten#271),
 * so every session gets a fresh WASM instance on a fixed-size memory of about memoryMb: a bomb meets a
 * clean "out of memory" inside QuickJS, and dropping the session returns all of it at once.
 *
 * Exceptions *thrown* by quickjs-emscripten (as opposed to guest exceptions returned as results)
 * mean the runtime is broken: they propagate, and the worker replaces itself.
 */
import { RELEASE_SYNC, Scope, newQuickJSWASMModuleFromVariant, newVariant } from "quickjs-emscripten";
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from "quickjs-emscripten";
import { BOOTSTRAP_FILENAME, BOOTSTRAP_SOURCE } from "./bootstrap.ts";
import { classify, SCRIPTLET_FILENAME } from "./guestErrors.ts";
import type { GuestError } from "./guestErrors.ts";
import { memberUpdates, newHostObject } from "./hostBindings.ts";
import type { BindingEnv } from "./hostBindings.ts";
import { InstanceSync } from "./instanceSync.ts";
import { markLoops, MARK_FUNCTION, type MarkedSource } from "./loopMarks.ts";
import type { InvalidScriptlet } from "./protocol.ts";
import type { Replica } from "./replica.ts";
import type { SandboxLimits, ScriptletLog } from "./types.ts";

const QUICKJS_STACK_BYTES = 384 * 1024; // far below the worker's 8 MiB native stack
const BOOTSTRAP_BUDGET_MS = 2000; // bootstrap, lockdown, preload: ours, and slow only on a cold WASM instance
const DESCRIBE_BUDGET_MS = 20;
const PRELOAD_MEMBERS_MAX = 2000;
/** Emscripten's static data and stack plus QuickJS's own runtime: what a heap holds besides the scriptlet. */
const HEAP_OVERHEAD_MB = 8;
const HEAP_MIN_MB = 16; // the WASM module's declared minimum memory

type WasmMemory = NonNullable<Parameters<typeof newVariant>[1]["wasmMemory"]>;
interface MemoryLike { grow(pages: number): number }
type MemoryConstructor = new (d: { initial: number; maximum: number }) => MemoryLike;
// (the WebAssembly global is not in this project's TS lib: take the type quickjs-emscripten expects)
const { Memory } = (globalThis as unknown as { WebAssembly: { Memory: MemoryConstructor } }).WebAssembly;

/**
 * A WASM memory of fixed size that notes when the allocator asked for more: that is the only way
 * to tell "out of memory" apart when QuickJS could not even allocate the error (it throws null).
 */
class FixedHeap extends Memory {
  exhausted = false;
  override grow(pages: number): number {
    this.exhausted = true;
    return super.grow(pages); // throws: maximum == initial
  }
}

/** A fresh QuickJS instance whose whole heap is fixed at about memoryMb (+ overhead). */
async function newHeap(memoryMb: number): Promise<{ rt: QuickJSRuntime; heap: FixedHeap }> {
  const pages = Math.max(HEAP_MIN_MB, Math.ceil(memoryMb) + HEAP_OVERHEAD_MB) * 16; // 64 KiB pages
  const heap = new FixedHeap({ initial: pages, maximum: pages });
  const module = await newQuickJSWASMModuleFromVariant(newVariant(RELEASE_SYNC, { wasmMemory: heap as unknown as WasmMemory }));
  return { rt: module.newRuntime(), heap };
}

/** What a call did through the helpers (kept guest-side during the call, read once at the end). */
export interface CallState {
  target: string | null;
  failure: string | null; // fail(message) or an invalid set_target: sticky, even if caught
  deliberate: boolean; // failure came from fail(), not from a misuse
  logs: ScriptletLog[];
}

export type CallResult = { state: CallState } & (
  /** value: the string returned, if any; dirty: promise jobs were left queued (never run here) */
  | { ok: true; type: string; value: string | null; timedOut: boolean; dirty: boolean }
  | { ok: false; error: GuestError }
);

type CodedState = [string | null, string | null, boolean, [ScriptletLog["level"], string][]];
function decodeState([target, failure, deliberate, coded]: CodedState): CallState {
  const logs: ScriptletLog[] = [];
  for (const [level, message] of coded) logs.push({ level, message });
  return { target, failure, deliberate, logs };
}
const NO_STATE: CodedState = [null, null, false, []];

export class VmSession {
  private readonly scope = new Scope();
  private readonly rt: QuickJSRuntime;
  private readonly ctx: QuickJSContext;
  private deadline = 0;
  private readonly heap: FixedHeap;
  private internals!: { run: QuickJSHandle; state: QuickJSHandle; describe: QuickJSHandle; lockdown: QuickJSHandle; update: QuickJSHandle; lastMark: QuickJSHandle };
  private entry!: QuickJSHandle;
  readonly env: BindingEnv;
  /** The loaded source with its loop marks, and how its positions map back to the user's source. */
  private marks: MarkedSource | null = null;
  /** Set when a host function hit an unexpected error: the session must not be trusted again. */
  broken: unknown = null;

  private constructor({ rt, heap }: { rt: QuickJSRuntime; heap: FixedHeap }, replica: Replica, private limits: SandboxLimits) {
    this.heap = heap;
    this.env = { replica, known: new Map(), ranking: null, rankingVersion: -1, syncedVersion: -1, instances: new InstanceSync(replica) };
    this.rt = this.scope.manage(rt);
    this.rt.setMemoryLimit(Math.max(1, limits.memoryMb) * 1024 * 1024); // still refuses a single huge allocation early
    this.rt.setMaxStackSize(QUICKJS_STACK_BYTES);
    this.rt.setInterruptHandler(() => performance.now() > this.deadline);
    this.ctx = this.scope.manage(this.rt.newContext());
  }

  /** Builds a session for `source`: either a ready session or why the scriptlet is invalid. */
  static async create(replica: Replica, limits: SandboxLimits, source: string): Promise<{ session: VmSession } | { invalid: InvalidScriptlet }> {
    const session = new VmSession(await newHeap(limits.memoryMb), replica, limits);
    const invalid = session.load(source); // a throw here means a broken runtime: it is dropped, never disposed
    if (invalid) {
      session.dispose();
      return { invalid };
    }
    return { session };
  }

  /** A new time limit applies to the next call; the heap size is fixed (a new memoryMb needs a new session). */
  setTimeout(timeoutMs: number): void {
    this.limits = { ...this.limits, timeoutMs };
  }

  /** Reset before every guest entry. */
  private startClock(ms: number): void {
    this.deadline = performance.now() + ms;
    this.heap.exhausted = false;
  }

  private load(source: string): InvalidScriptlet | null {
    const { ctx } = this;
    this.startClock(BOOTSTRAP_BUDGET_MS);
    const host = this.scope.manage(newHostObject(ctx, this.env, (e) => (this.broken ??= e)));
    const boot = ctx.evalCode(BOOTSTRAP_SOURCE, BOOTSTRAP_FILENAME, { type: "global", strict: true });
    if (boot.error) return this.cannotStart(boot.error);
    const made = ctx.callFunction(this.scope.manage(boot.value), ctx.undefined, host);
    if (made.error) return this.cannotStart(made.error);
    const internals = this.scope.manage(made.value);
    const get = (name: string) => this.scope.manage(ctx.getProp(internals, name));
    this.internals = { run: get("run"), state: get("state"), describe: get("describe"), lockdown: get("lockdown"), update: get("update"), lastMark: get("lastMark") };

    // Loops get a call at the top of their body, so a time-out in one names its line (loopMarks.ts).
    const marked = markLoops(source);
    this.marks = marked;
    this.startClock(this.limits.timeoutMs);
    const top = ctx.evalCode(marked.source, SCRIPTLET_FILENAME, { type: "global" });
    if (top.error) return this.invalid(top.error, "");
    top.value.dispose();

    // Read the binding the way the scriptlet sees it: a function declaration, var, let or const.
    const found = ctx.evalCode('typeof instance_placement === "undefined" ? undefined : instance_placement', "lookup.js", { type: "global" });
    if (found.error) return this.invalid(found.error, "");
    const entry = this.scope.manage(found.value);
    const type = ctx.typeof(entry);
    if (type !== "function") {
      return { message: `The scriptlet must define a function instance_placement(request, candidate_members), but instance_placement is ${type === "undefined" ? "not defined" : `a ${type}`}`, line: null, column: null };
    }
    const arity = ctx.getProp(entry, "length").consume((h) => ctx.getNumber(h));
    if (arity !== 2) {
      return { message: `instance_placement must take exactly two parameters (request, candidate_members), it takes ${arity}`, line: null, column: null };
    }
    this.entry = entry;

    this.startClock(BOOTSTRAP_BUDGET_MS); // our code, not the scriptlet's: its own budget
    const locked = ctx.callFunction(this.internals.lockdown, ctx.undefined);
    if (locked.error) return this.invalid(locked.error, "Could not freeze the scriptlet's globals after its top-level code: ");
    locked.value.dispose();
    this.preload();
    return null;
  }

  /** The bootstrap itself failed: only limits can cause that (e.g. scriptlet.memory_mb far too small). */
  private cannotStart(error: QuickJSHandle): InvalidScriptlet {
    const e = error.consume((h) => this.ctx.dump(h)) as { name?: string; message?: string } | string;
    const text = typeof e === "object" && e !== null ? `${e.name ?? "Error"}: ${e.message ?? ""}` : String(e);
    return { message: `The scriptlet sandbox could not start under the current limits (memory ${this.limits.memoryMb} MiB): ${text}`, line: null, column: null };
  }

  private invalid(error: QuickJSHandle, prefix: string): InvalidScriptlet {
    const e = this.describe(error);
    error.dispose();
    const what = e.kind === "error" ? e.text : `${e.text} while running the scriptlet's top-level code`;
    return { message: prefix + what, line: e.line, column: e.column };
  }

  /** Loads the members into the frozen cache now so the first calls do not pay for it. */
  private preload(): void {
    const { replica } = this.env;
    const names = replica.memberNames("");
    if (names.length > PRELOAD_MEMBERS_MAX) return; // big clusters: members are sent as they are needed
    const version = replica.membersVersion;
    this.startClock(BOOTSTRAP_BUDGET_MS);
    const json = this.ctx.newString(memberUpdates(this.env, names));
    const r = this.ctx.callFunction(this.internals.update, this.ctx.undefined, json);
    json.dispose();
    if (r.error) {
      r.error.dispose();
      this.env.known.clear(); // not fatal: calls send what is missing
    } else {
      r.value.dispose();
      this.env.syncedVersion = version; // from now on calls send only what changed, and nothing when nothing did
    }
  }

  /**
   * Calls instance_placement: payload = JSON [request, resources, membersVersion, instancesVersion, countsVersion];
   * updates = members to cache first ("[]": none); slots = the candidates (null: the same as the
   * previous call's).
   */
  call(payload: string, updates: string, slots: Uint32Array | null): CallResult {
    const { ctx } = this;
    const owned = [ctx.newString(payload)];
    if (updates !== "[]") owned.push(ctx.newString(updates));
    if (slots) owned.push(ctx.newArrayBuffer(slots.buffer));
    const args = [this.entry, owned[0], updates !== "[]" ? owned[1] : ctx.undefined];
    if (slots) args.push(owned[owned.length - 1]);
    this.startClock(this.limits.timeoutMs);
    const r = ctx.callFunction(this.internals.run, ctx.undefined, args);
    for (const a of owned) a.dispose();
    if (r.error) {
      const error = this.describe(r.error);
      r.error.dispose();
      return { ok: false, error, state: this.stateAfterThrow() };
    }
    const timedOut = performance.now() > this.deadline;
    const text = ctx.getString(r.value);
    r.value.dispose();
    const [kind, value, ...state] = JSON.parse(text) as [string, string | null, ...CodedState];
    const type = kind === "A" ? "undefined" : kind === "S" ? "string" : (value ?? "unknown");
    return { ok: true, type, value: kind === "S" ? value : null, timedOut, dirty: this.rt.hasPendingJob(), state: decodeState(state) };
  }

  /** What the call had done when it threw (a fresh small budget; nothing if even that fails). */
  private stateAfterThrow(): CallState {
    this.startClock(DESCRIBE_BUDGET_MS);
    const r = this.ctx.callFunction(this.internals.state, this.ctx.undefined);
    if (r.error) {
      r.error.dispose();
      return decodeState(NO_STATE);
    }
    return decodeState(JSON.parse(r.value.consume((h) => this.ctx.getString(h))) as CodedState);
  }

  /** Reads a thrown guest value safely (a fresh small budget: it may be a proxy) and classifies it. */
  describe(error: QuickJSHandle): GuestError {
    const { ctx } = this;
    const timedOut = performance.now() > this.deadline;
    const exhausted = this.heap.exhausted;
    this.startClock(DESCRIBE_BUDGET_MS);
    const r = ctx.callFunction(this.internals.describe, ctx.undefined, error);
    let thrown: [string, string, string] = ["", "a value that could not be inspected", ""];
    if (r.error) r.error.dispose();
    else thrown = JSON.parse(r.value.consume((h) => ctx.getString(h))) as [string, string, string];
    const e = classify(thrown, { timedOut, exhausted }, this.limits);
    return e.kind === "timeout" ? this.atLastLoop(e) : this.inUserSource(e);
  }

  /** A time-out names the loop the code was in last (loopMarks.ts), when it was in one. */
  private atLastLoop(e: GuestError): GuestError {
    const r = this.ctx.callFunction(this.internals.lastMark, this.ctx.undefined);
    let k = 0;
    if (r.error) r.error.dispose();
    else k = r.value.consume((h) => this.ctx.getNumber(h));
    const loop = this.marks?.loops[k - 1];
    if (!loop) return this.inUserSource(e);
    const text = e.line === null ? `${e.text} (line ${loop.line}:${loop.column})` : e.text.replace(` (line ${e.line}:${e.column})`, ` (line ${loop.line}:${loop.column})`);
    return { ...e, line: loop.line, column: loop.column, text };
  }

  /** A position in the marked source, told in the user's source. */
  private inUserSource(e: GuestError): GuestError {
    if (!this.marks || e.line === null || e.column === null) return e;
    const { line, column } = this.marks.original(e.line, e.column);
    if (line === e.line && column === e.column) return e;
    return { ...e, line, column, text: e.text.replace(` (line ${e.line}:${e.column})`, ` (line ${line}:${column})`) };
  }

  /** Bytes the runtime uses (QuickJS's own accounting; walks the heap, so for stats only). */
  memoryUsed(): number {
    const m = /memory used\s+\d+\s+(\d+)/.exec(this.rt.dumpMemoryUsage());
    return m ? Number(m[1]) : 0;
  }

  /**
   * Frees the session. The WASM instance goes with it, so nothing can leak into the next session;
   * freeing the runtime first still checks (QuickJS asserts) that every handle was released.
   * Returns false when that check failed (a handle leak: a bug here, never the scriptlet's).
   */
  dispose(): boolean {
    released.push(new WeakRef(this.heap));
    try {
      this.scope.dispose();
      return true;
    } catch {
      return false;
    }
  }
}

/** Heaps of disposed sessions, until V8 has collected them (their memory goes back to the system then). */
let released: WeakRef<FixedHeap>[] = [];

/** How many disposed sessions' heaps are still held in memory (forgets the ones already collected). */
export function heapsNotYetCollected(): number {
  released = released.filter((ref) => ref.deref() !== undefined);
  return released.length;
}
