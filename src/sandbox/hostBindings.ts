/**
 * The raw host functions behind the §4 globals (see bootstrap.ts). They read the worker's replica
 * and record what the current call did (target, fail(), logs). They never throw into the guest:
 * errors are returned as "!message" strings and turned into guest Errors by the bootstrap.
 */
import type { QuickJSContext, QuickJSHandle } from "quickjs-emscripten";
import type { Replica } from "./replica.ts";
import type { ScriptletLog, ScriptletLogLevel } from "./types.ts";

export const LOG_MAX_BYTES = 64 * 1024; // per call, all lines together
export const LOG_MAX_LINES = 1000;
export const LOG_TRUNCATED = "[log truncated]";

/** What one instance_placement call did through the helpers. */
export class CallState {
  target: string | null = null;
  failure: string | null = null; // fail(message) or an invalid set_target: sticky, even if caught
  deliberate = false; // true when `failure` came from fail(), not from a misuse
  readonly logs: ScriptletLog[] = [];
  private logBytes = 0;
  private truncated = false;
  private nameSet: Set<string> | null = null;

  constructor(readonly names: string[]) {}

  isCandidate(name: string): boolean {
    this.nameSet ??= new Set(this.names);
    return this.nameSet.has(name);
  }

  /** Records a line; returns true once the budget is spent (the guest then stops calling). */
  log(level: ScriptletLogLevel, message: string): boolean {
    if (this.truncated) return true;
    if (this.logs.length >= LOG_MAX_LINES || this.logBytes + message.length > LOG_MAX_BYTES) {
      const room = LOG_MAX_BYTES - this.logBytes;
      if (room > 0 && this.logs.length < LOG_MAX_LINES) this.logs.push({ level, message: message.slice(0, room) });
      this.logs.push({ level: "warn", message: LOG_TRUNCATED });
      this.truncated = true;
      return true;
    }
    this.logs.push({ level, message });
    this.logBytes += message.length;
    return false;
  }
}

/** State shared between a session and its host functions. */
export interface BindingEnv {
  replica: Replica;
  /** Member versions this context already holds as frozen objects. */
  known: Map<string, number>;
  /** The call in progress, or null during top-level code. */
  call: CallState | null;
  /** The candidate names of the previous call, which the guest still holds as an array. */
  lastNames: string[] | null;
}

const LEVELS: ReadonlySet<string> = new Set(["info", "warn", "error"]);

/** JSON of [[slot, member]...] for the members this context lacks or holds stale copies of. */
export function memberUpdates(env: BindingEnv, names: readonly string[]): string {
  let out = "";
  for (const name of names) {
    const version = env.replica.memberVersion(name);
    if (version === 0 || env.known.get(name) === version) continue;
    out += `${out ? "," : ""}[${env.replica.memberSlot(name)},${env.replica.memberJson(name)}]`;
    env.known.set(name, version);
  }
  return `[${out}]`;
}

/** The slots of `names` as the guest indexes its members, or the first unknown name. */
export function slotsOf(replica: Replica, names: readonly string[]): Uint32Array | string {
  const slots = new Uint32Array(names.length);
  for (let i = 0; i < names.length; i++) {
    const slot = replica.memberSlot(names[i]);
    if (slot < 0) return names[i];
    slots[i] = slot;
  }
  return slots;
}

type Raw = (...args: string[]) => string | number | undefined;

function raw(env: BindingEnv): Record<string, Raw> {
  const { replica } = env;
  return {
    log: (level, message) => {
      if (!env.call || !LEVELS.has(level)) return 1; // top-level logs are dropped
      return env.call.log(level as ScriptletLogLevel, message) ? 1 : 0;
    },
    target: (name) => {
      const call = env.call;
      if (!call) return "!set_target() can only be called from instance_placement";
      if (!call.isCandidate(name)) {
        const message = `Invalid member name: ${name.length > 200 ? `${name.slice(0, 200)}…` : name}`;
        call.failure ??= message;
        return `!${message}`;
      }
      call.target = name;
      return "";
    },
    fail: (message) => {
      if (env.call && env.call.failure === null) {
        env.call.failure = message === "" ? "Placement rejected by the scriptlet (fail() called)" : message;
        env.call.deliberate = true;
      }
      return undefined;
    },
    members: (group, known) => {
      const version = replica.membersVersion;
      if (Number(known) === version) return "";
      const names = replica.memberNames(group);
      const slots = names.map((n) => replica.memberSlot(n));
      return `${version}\u0001${memberUpdates(env, names)}\u0001${JSON.stringify(slots)}`;
    },
    resources: (name) => {
      const member = replica.member(name);
      return member ? JSON.stringify(member.resources) : `!Unknown cluster member: ${name}`;
    },
    state: (name) => {
      if (!replica.hasMember(name)) return `!Unknown cluster member: ${name}`;
      return JSON.stringify(replica.memberState(name));
    },
    project: (name) => {
      const project = replica.project(name);
      return project ? JSON.stringify(project) : `!Unknown project: ${name}`;
    },
    instances: (project, location, known) => {
      const version = replica.instancesVersion;
      if (Number(known) === version) return "";
      return `[${version},${replica.instancesJson(project, location)}]`;
    },
    count: (project, location, pending) => replica.instanceCount(project, location, Number(pending) === 1),
  };
}

/** Builds the `host` object handed to the bootstrap; the caller owns (and disposes) the handle. */
export function newHostObject(ctx: QuickJSContext, env: BindingEnv, onInternalError: (e: unknown) => void): QuickJSHandle {
  const host = ctx.newObject();
  for (const [name, fn] of Object.entries(raw(env))) {
    const fnHandle = ctx.newFunction(name, (...args: QuickJSHandle[]) => {
      try {
        const values = args.map((a) => ctx.getString(a)); // the bootstrap passes strings and numbers only
        const result = fn(...values);
        if (result === undefined) return undefined;
        return typeof result === "number" ? ctx.newNumber(result) : ctx.newString(result);
      } catch (e) {
        onInternalError(e);
        return ctx.newString("!internal error in the scriptlet sandbox");
      }
    });
    ctx.setProp(host, name, fnHandle);
    fnHandle.dispose();
  }
  return host;
}
