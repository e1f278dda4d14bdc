/**
 * Guest-side code evaluated in every QuickJS context before the scriptlet: it defines the §4
 * globals on top of a handful of raw host functions (which never become reachable themselves),
 * keeps the frozen member cache, builds each call's arguments from one JSON payload (one host→guest
 * crossing per call), and freezes the world once the scriptlet's top-level code has run.
 *
 * Raw host functions (`host.*`) take and return only strings and numbers; an error comes back as a
 * string starting with "!" (JSON never does), so no host exception or stack ever enters the guest.
 */
export const BOOTSTRAP_FILENAME = "berth-helpers.js";
export const LOG_MESSAGE_MAX = 65536;

export const BOOTSTRAP_SOURCE = String.raw`(function (host) {
"use strict";
const G = globalThis;
const freeze = Object.freeze, keysOf = Object.keys, getProto = Object.getPrototypeOf;
const getOwnDesc = Object.getOwnPropertyDescriptor, defineProperty = Object.defineProperty;
const create = Object.create, ownKeys = Reflect.ownKeys, apply = Reflect.apply, isArray = Array.isArray;
const parse = JSON.parse, stringify = JSON.stringify, toStr = String;
const TypeErr = TypeError, Err = Error, SetC = Set, U32 = Uint32Array;
const setHas = Set.prototype.has, setAdd = Set.prototype.add, strSlice = String.prototype.slice;
const strIndexOf = String.prototype.indexOf;
const arrSlice = Array.prototype.slice, hasOwn = Object.prototype.hasOwnProperty;
const hostLog = host.log, hostTarget = host.target, hostFail = host.fail, hostMembers = host.members;
const hostResources = host.resources, hostState = host.state, hostProject = host.project;
const hostInstances = host.instances, hostCount = host.count;
const LOG_MAX = ${LOG_MESSAGE_MAX};

delete G.SharedArrayBuffer; // no threads here; nothing to share
delete G.Atomics;
delete G.WebAssembly;

const freezeNode = (k, v) => (typeof v === "object" && v !== null ? freeze(v) : v);
const parseFrozen = (json) => parse(json, freezeNode);
const bySlot = []; // member slot (a small integer the host assigns) -> deep-frozen member, shared by every call
let instanceCache = create(null), instanceCacheSize = 0; // filter -> [version, frozen list]
let memberCache = create(null), memberCacheSize = 0; // group -> [version, list]
let lastCandidates = []; // the previous call's candidates, reused when the host sends the same names
let resources = null; // this call's get_instance_resources() answer
let logFull = false;

function kind(v) {
  if (v === null) return "null";
  if (isArray(v)) return "array";
  return typeof v;
}
function fromHost(text) {
  if (typeof text === "string" && text.length > 0 && text[0] === "!") throw new Err(apply(strSlice, text, [1]));
  return text;
}
function applyUpdates(updates) {
  for (let i = 0; i < updates.length; i++) {
    const slot = updates[i][0];
    while (bySlot.length < slot) bySlot[bySlot.length] = null; // keep the array dense (fast)
    bySlot[slot] = updates[i][1];
  }
}
function memberList(slots) {
  const out = [];
  for (let i = 0; i < slots.length; i++) out[i] = bySlot[slots[i]];
  return out;
}
function options(fname, o, allowed) {
  if (o === undefined || o === null) return {};
  if (typeof o !== "object" || isArray(o)) {
    throw new TypeErr(fname + "() expects an options object such as {" + allowed.join(", ") + "}, got " + kind(o));
  }
  const keys = keysOf(o), out = {};
  for (let i = 0; i < keys.length; i++) {
    if (allowed.indexOf(keys[i]) < 0) {
      throw new TypeErr(fname + "(): unknown option \"" + keys[i] + "\" (expected " + allowed.join(", ") + ")");
    }
  }
  for (let i = 0; i < allowed.length; i++) {
    const name = allowed[i], v = o[name];
    if (v === undefined || v === null) continue;
    const want = name === "pending" ? "boolean" : "string";
    if (typeof v !== want) throw new TypeErr(fname + "(): option " + name + " must be a " + want + ", got " + kind(v));
    out[name] = v;
  }
  return out;
}
function stringArg(fname, what, v) {
  if (typeof v !== "string") throw new TypeErr(fname + "(" + what + ") expects a string, got " + kind(v));
  return v;
}
function render(v) {
  const t = typeof v;
  if (t === "string") return v;
  if (t === "number" || t === "boolean" || t === "undefined" || t === "bigint" || t === "symbol") return toStr(v);
  let s;
  try { s = stringify(v); } catch (e) { s = undefined; }
  if (typeof s !== "string") {
    try { s = toStr(v); } catch (e) { s = "[" + t + "]"; }
  }
  return s;
}
function logger(level) {
  const log = function (...args) {
    if (logFull) return;
    let out = "";
    for (let i = 0; i < args.length; i++) {
      out += render(args[i]);
      if (out.length > LOG_MAX) { out = apply(strSlice, out, [0, LOG_MAX]); break; }
    }
    if (hostLog(level, out) === 1) logFull = true;
  };
  defineProperty(log, "name", { value: "log_" + level });
  return log;
}

const api = {
  log_info: logger("info"),
  log_warn: logger("warn"),
  log_error: logger("error"),
  set_target(name) {
    fromHost(hostTarget(stringArg("set_target", "name", name)));
  },
  set_cluster_member_target(name) {
    fromHost(hostTarget(stringArg("set_cluster_member_target", "name", name)));
  },
  fail(message) {
    const text = message === undefined ? "" : render(message);
    hostFail(text);
    throw new Err(text === "" ? "fail() called" : text);
  },
  get_cluster_member_resources(name) {
    return parse(fromHost(hostResources(stringArg("get_cluster_member_resources", "name", name))));
  },
  get_cluster_member_state(name) {
    return parse(fromHost(hostState(stringArg("get_cluster_member_state", "name", name))));
  },
  get_instance_resources() {
    if (resources === null) throw new Err("get_instance_resources() can only be called from instance_placement");
    return { cpu_cores: resources.cpu_cores, memory_size: resources.memory_size, root_disk_size: resources.root_disk_size };
  },
  get_instances(o) {
    const f = options("get_instances", o, ["project", "location"]);
    const key = (f.project || "") + "\u0000" + (f.location || "");
    const cached = instanceCache[key];
    const fresh = hostInstances(f.project || "", f.location || "", cached ? "" + cached[0] : "-1");
    if (fresh !== "") {
      if (instanceCacheSize > 256) { instanceCache = create(null); instanceCacheSize = 0; }
      instanceCacheSize++;
      instanceCache[key] = parseFrozen(fresh);
    }
    return apply(arrSlice, instanceCache[key][1], []);
  },
  get_instances_count(o) {
    const f = options("get_instances_count", o, ["project", "location", "pending"]);
    return hostCount(f.project || "", f.location || "", f.pending === true ? 1 : 0);
  },
  get_cluster_members(o) {
    const f = options("get_cluster_members", o, ["group"]);
    const key = f.group || "";
    const cached = memberCache[key];
    const fresh = hostMembers(key, cached ? "" + cached[0] : "-1");
    if (fresh !== "") {
      // "version \u0001 updates \u0001 names": only the updates (member objects) are frozen
      const i = apply(strIndexOf, fresh, ["\u0001"]), j = apply(strIndexOf, fresh, ["\u0001", i + 1]);
      applyUpdates(parseFrozen(apply(strSlice, fresh, [i + 1, j])));
      if (memberCacheSize > 64) { memberCache = create(null); memberCacheSize = 0; }
      memberCacheSize++;
      memberCache[key] = [apply(strSlice, fresh, [0, i]), memberList(parse(apply(strSlice, fresh, [j + 1])))];
    }
    return apply(arrSlice, memberCache[key][1], []);
  },
  get_project(name) {
    return parse(fromHost(hostProject(stringArg("get_project", "name", name))));
  },
};
const names = keysOf(api);
for (let i = 0; i < names.length; i++) {
  defineProperty(G, names[i], { value: freeze(api[names[i]]), writable: false, enumerable: false, configurable: false });
}

return {
  /**
   * One placement call: payload = [request, resources]; updates = [[slot, member]...] to cache
   * first; slots = the candidates' slots (an ArrayBuffer of uint32), or undefined when they are the
   * same as last call's. The scriptlet gets its own copy of the list.
   */
  run(fn, payload, updates, slots) {
    if (updates !== "[]") applyUpdates(parseFrozen(updates));
    const p = parse(payload);
    if (slots !== undefined) lastCandidates = memberList(new U32(slots));
    resources = p[1];
    logFull = false;
    return fn(p[0], apply(arrSlice, lastCandidates, []));
  },
  update(json) {
    applyUpdates(parseFrozen(json));
  },
  /** [name, message, stack] of anything thrown, read defensively (it may be a proxy or throw itself). */
  describe(e) {
    let name = "", message = "", stack = "";
    if ((typeof e === "object" && e !== null) || typeof e === "function") {
      try { const n = e.name; if (typeof n === "string") name = n; } catch (x) {}
      try { const m = e.message; if (typeof m === "string") message = m; } catch (x) {}
      try { const s = e.stack; if (typeof s === "string") stack = s; } catch (x) {}
      if (name === "" && message === "") message = "a value of type " + kind(e);
    } else {
      message = typeof e === "string" ? e : "a value of type " + kind(e) + ": " + render(e);
    }
    const cap = (s, n) => (s.length > n ? apply(strSlice, s, [0, n]) : s);
    return stringify([cap(name, 200), cap(message, 4096), cap(stack, 4096)]);
  },
  /** Freezes everything reachable from globalThis: calls cannot change what the next call sees. */
  lockdown() {
    const seen = new SetC(), stack = create(null);
    let n = 0;
    stack[n++] = G;
    while (n > 0) {
      const v = stack[--n];
      if ((typeof v !== "object" && typeof v !== "function") || v === null || apply(setHas, seen, [v])) continue;
      apply(setAdd, seen, [v]);
      try { freeze(v); } catch (x) {} // a typed array with elements cannot be frozen: it stays the scriptlet's own
      stack[n++] = getProto(v);
      const keys = ownKeys(v);
      for (let i = 0; i < keys.length; i++) {
        const d = getOwnDesc(v, keys[i]);
        if (d === undefined) continue;
        if (apply(hasOwn, d, ["value"])) stack[n++] = d.value;
        else { stack[n++] = d.get; stack[n++] = d.set; }
      }
    }
  },
};
})`;
