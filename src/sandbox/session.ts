/**
 * One QuickJS runtime + context with one scriptlet loaded: bootstrap, top-level code, validation,
 * lockdown, then any number of calls. Lives inside a worker only (see worker.ts for why).
 *
 * Exceptions *thrown* by quickjs-emscripten (as opposed to guest exceptions returned as results)
 * mean the runtime is broken: they propagate, and the worker replaces itself without disposing.
 */
import { Scope } from "quickjs-emscripten";
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime, QuickJSWASMModule } from "quickjs-emscripten";
import { BOOTSTRAP_FILENAME, BOOTSTRAP_SOURCE } from "./bootstrap.ts";
import { memberUpdates, newHostObject } from "./hostBindings.ts";
import type { BindingEnv, CallState } from "./hostBindings.ts";
import type { InvalidScriptlet } from "./protocol.ts";
import type { Replica } from "./replica.ts";
import type { SandboxLimits } from "./types.ts";

export const SCRIPTLET_FILENAME = "scriptlet.js";
const QUICKJS_STACK_BYTES = 384 * 1024; // far below the worker's 8 MiB native stack
const BOOTSTRAP_BUDGET_MS = 1000;
const DESCRIBE_BUDGET_MS = 20;
const DESCRIBE_EXTRA_MEMORY = 1024 * 1024;
const PRELOAD_MEMBERS_MAX = 2000;

/** What a thrown guest value looked like, classified. */
export interface GuestError {
  kind: "timeout" | "memory" | "stack" | "error";
  text: string; // "TypeError: x is not a function (line 3:9)"
  line: number | null;
  column: number | null;
}

export type CallResult =
  | { ok: true; type: string; value: string | null } // value: the string returned, if any
  | { ok: false; error: GuestError };

function locate(stack: string): { line: number | null; column: number | null } {
  const m = new RegExp(`${SCRIPTLET_FILENAME.replace(".", "\\.")}:(\\d+):(\\d+)`).exec(stack);
  return m ? { line: Number(m[1]), column: Number(m[2]) } : { line: null, column: null };
}

export class VmSession {
  private readonly scope = new Scope();
  private readonly rt: QuickJSRuntime;
  private readonly ctx: QuickJSContext;
  private deadline = 0;
  private internals!: { run: QuickJSHandle; describe: QuickJSHandle; lockdown: QuickJSHandle; update: QuickJSHandle };
  private entry!: QuickJSHandle;
  readonly env: BindingEnv;
  /** Set when a host function hit an unexpected error: the session must not be trusted again. */
  broken: unknown = null;

  private constructor(module: QuickJSWASMModule, replica: Replica, private limits: SandboxLimits) {
    this.env = { replica, known: new Map(), call: null, lastNames: null };
    this.rt = this.scope.manage(module.newRuntime());
    this.setLimits(limits);
    this.rt.setMaxStackSize(QUICKJS_STACK_BYTES);
    this.rt.setInterruptHandler(() => performance.now() > this.deadline);
    this.ctx = this.scope.manage(this.rt.newContext());
  }

  /** Builds a session for `source`: either a ready session or why the scriptlet is invalid. */
  static create(
    module: QuickJSWASMModule, replica: Replica, limits: SandboxLimits, source: string,
  ): { session: VmSession } | { invalid: InvalidScriptlet } {
    const session = new VmSession(module, replica, limits);
    const invalid = session.load(source); // a throw here means a broken runtime: not disposed on purpose
    if (invalid) {
      session.dispose();
      return { invalid };
    }
    return { session };
  }

  setLimits(limits: SandboxLimits): void {
    this.limits = limits;
    this.rt.setMemoryLimit(Math.max(1, limits.memoryMb) * 1024 * 1024);
  }

  private startClock(ms: number): void {
    this.deadline = performance.now() + ms;
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
    this.internals = { run: get("run"), describe: get("describe"), lockdown: get("lockdown"), update: get("update") };

    this.startClock(this.limits.timeoutMs);
    const top = ctx.evalCode(source, SCRIPTLET_FILENAME, { type: "global" });
    if (top.error) return this.invalid(top.error, "");
    top.value.dispose();

    const entry = ctx.getProp(ctx.global, "instance_placement");
    this.scope.manage(entry);
    const type = ctx.typeof(entry);
    if (type !== "function") {
      return { message: `The scriptlet must define a function instance_placement(request, candidate_members), but instance_placement is ${type === "undefined" ? "not defined" : `a ${type}`}`, line: null, column: null };
    }
    const arity = ctx.getProp(entry, "length").consume((h) => ctx.getNumber(h));
    if (arity !== 2) {
      return { message: `instance_placement must take exactly two parameters (request, candidate_members), it takes ${arity}`, line: null, column: null };
    }
    this.entry = entry;

    this.startClock(this.limits.timeoutMs);
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
    const names = this.env.replica.memberNames("");
    if (names.length === 0 || names.length > PRELOAD_MEMBERS_MAX) return;
    this.startClock(this.limits.timeoutMs);
    const json = this.ctx.newString(memberUpdates(this.env, names));
    const r = this.ctx.callFunction(this.internals.update, this.ctx.undefined, json);
    json.dispose();
    if (r.error) {
      r.error.dispose();
      this.env.known.clear(); // not fatal: calls send what is missing
    } else r.value.dispose();
  }

  /**
   * Calls instance_placement: payload = JSON [request, resources]; updates = members to cache
   * first; slots = the candidates (null: the same as the previous call's).
   */
  call(payload: string, updates: string, slots: Uint32Array | null, call: CallState): CallResult {
    const { ctx } = this;
    this.env.call = call;
    try {
      const args = [ctx.newString(payload), ctx.newString(updates)];
      if (slots) args.push(ctx.newArrayBuffer(slots.buffer));
      this.startClock(this.limits.timeoutMs);
      const r = ctx.callFunction(this.internals.run, ctx.undefined, this.entry, ...args);
      for (const a of args) a.dispose();
      if (r.error) {
        const error = this.describe(r.error);
        r.error.dispose();
        return { ok: false, error };
      }
      const type = ctx.typeof(r.value);
      const value = type === "string" ? ctx.getString(r.value) : null;
      r.value.dispose();
      return { ok: true, type, value };
    } finally {
      this.env.call = null;
    }
  }

  /** Reads a thrown guest value safely (fresh small budget, a little extra memory) and classifies it. */
  describe(error: QuickJSHandle): GuestError {
    const { ctx } = this;
    const timedOut = performance.now() > this.deadline;
    this.rt.setMemoryLimit(Math.max(1, this.limits.memoryMb) * 1024 * 1024 + DESCRIBE_EXTRA_MEMORY);
    this.startClock(DESCRIBE_BUDGET_MS);
    const r = ctx.callFunction(this.internals.describe, ctx.undefined, error);
    this.setLimits(this.limits);
    let name = "";
    let message = "a value that could not be inspected";
    let stack = "";
    if (r.error) r.error.dispose();
    else [name, message, stack] = JSON.parse(r.value.consume((h) => ctx.getString(h))) as [string, string, string];
    const { line, column } = locate(stack);
    const at = line === null ? "" : ` (line ${line}:${column})`;
    if (name === "InternalError" && message === "interrupted" && timedOut) {
      return { kind: "timeout", text: `Scriptlet exceeded its time limit of ${this.limits.timeoutMs} ms${at}`, line, column };
    }
    if (message === "out of memory") {
      return { kind: "memory", text: `Scriptlet exceeded its memory limit of ${this.limits.memoryMb} MiB${at}`, line, column };
    }
    if (message === "stack overflow") {
      return { kind: "stack", text: `Scriptlet exceeded the maximum call stack depth${at}`, line, column };
    }
    return { kind: "error", text: `${name ? `${name}: ` : ""}${message}${at}`, line, column };
  }

  /** Bytes the runtime uses (QuickJS's own accounting). */
  memoryUsed(): number {
    const m = /memory used\s+\d+\s+(\d+)/.exec(this.rt.dumpMemoryUsage());
    return m ? Number(m[1]) : 0;
  }

  dispose(): void {
    this.scope.dispose();
  }
}
