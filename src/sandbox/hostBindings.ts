/**
 * The raw host functions behind the data helpers of §4 (see guestHelpers.ts): they read the
 * worker's replica. They never throw into the guest: errors are returned as "!message" strings and
 * turned into guest Errors by the bootstrap.
 */
import type { QuickJSContext, QuickJSHandle } from "quickjs-emscripten";
import type { InstanceSync } from "./instanceSync.ts";
import type { Ranking } from "./ranking.ts";
import type { Replica } from "./replica.ts";

/** State shared between a session and its host functions. */
export interface BindingEnv {
  replica: Replica;
  /** Member versions this context already holds as frozen objects. */
  known: Map<string, number>;
  /** The candidate list the guest holds: a worker's Ranking at `rankingVersion` (see ranking.ts). */
  ranking: Ranking | null;
  rankingVersion: number;
  /** The replica's membersVersion this context holds every member of, or -1 (then only candidates are sent). */
  syncedVersion: number;
  /** The instances this context holds. */
  instances: InstanceSync;
}

/** JSON of [[slot, member]...] for the members this context lacks or holds stale copies of. */
export function memberUpdates(env: BindingEnv, names: Iterable<string>): string {
  let out = "";
  for (const name of names) {
    const version = env.replica.memberVersion(name);
    if (version === 0 || env.known.get(name) === version) continue;
    out += `${out ? "," : ""}[${env.replica.memberSlot(name)},${env.replica.memberJson(name)}]`;
    env.known.set(name, version);
  }
  return `[${out}]`;
}

type Raw = (...args: string[]) => string | number | undefined;

function raw(env: BindingEnv): Record<string, Raw> {
  const { replica } = env;
  return {
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
      return `${version}\u0001${env.instances.answer(project, location)}`;
    },
    forget: () => {
      // the guest failed while applying an answer: it may lack what we think it holds
      env.known.clear();
      env.syncedVersion = -1;
      env.instances.forget();
      return undefined;
    },
    // set_target's check past the first candidates: is this slot among the current call's
    // candidates? (a scan in the guest cost ~50 µs at 1,000 candidates)
    candidate: (slot) => (env.ranking?.isCandidate(Number(slot)) ? 1 : 0),
    count: (project, location, pending) => replica.instanceCount(project, location, Number(pending) === 1),
    counts: (project, pending) => replica.instanceCountsJson(project, Number(pending) === 1),
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
