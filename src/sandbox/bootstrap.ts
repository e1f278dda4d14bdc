/**
 * Guest-side code evaluated in every QuickJS context before the scriptlet (one closure, assembled
 * from this file and guestHelpers.ts). It defines the §4 globals on a few raw host functions that
 * never become reachable themselves, keeps what a call did (target, fail(), logs) on the guest side
 * so a typical call crosses into the host only to fetch data that changed, and freezes the world
 * once the scriptlet's top-level code has run.
 *
 * Raw host functions (`host.*`) take and return strings and numbers only; an error comes back as a
 * string starting with "!" (JSON never does), so no host exception or stack ever enters the guest.
 */
import { GUEST_HELPERS } from "./guestHelpers.ts";
import { MARK_FUNCTION } from "./loopMarks.ts";

export const BOOTSTRAP_FILENAME = "berth-helpers.js";
export const LOG_MAX_BYTES = 64 * 1024; // per call, all lines together
export const LOG_MAX_LINES = 1000;
export const LOG_TRUNCATED = "[log truncated]";

/** Captured before any scriptlet code runs, so later changes to the built-ins do not reach them. */
const PRELUDE = String.raw`
"use strict";
const G = globalThis;
const freeze = Object.freeze, keysOf = Object.keys, getProto = Object.getPrototypeOf;
const getOwnDesc = Object.getOwnPropertyDescriptor, defineProperty_ = Object.defineProperty, setProto = Object.setPrototypeOf;
const create = Object.create, ownKeys = Reflect.ownKeys, apply = Reflect.apply, isArray = Array.isArray;
const parse = JSON.parse, stringify = JSON.stringify, toStr = String;
const TypeErr = TypeError, Err = Error, SetC = Set, U32 = Uint32Array, ArrC = Array;
const setHas = Set.prototype.has, setAdd = Set.prototype.add, strSlice = String.prototype.slice;
const strIndexOf = String.prototype.indexOf, arrSlice = Array.prototype.slice, hasOwn = Object.prototype.hasOwnProperty;
const LOG_MAX_BYTES = ${LOG_MAX_BYTES}, LOG_MAX_LINES = ${LOG_MAX_LINES}, LOG_TRUNCATED = ${JSON.stringify(LOG_TRUNCATED)};

// The loop marks (loopMarks.ts): each loop body notes its number; after a time-out the host asks.
let lastMark = 0;
defineProperty_(G, "${MARK_FUNCTION}", { value: function mark(k) { lastMark = k; }, writable: false, enumerable: false, configurable: false });

delete G.SharedArrayBuffer; // no threads here; nothing to share
delete G.Atomics;
delete G.WebAssembly;

// QuickJS lets Object.defineProperty change the value of a frozen global's property (ordinary
// objects are fine). After lockdown the define functions refuse the global object outright.
let locked = false;
const defineProps = Object.defineProperties, reflectDefine = Reflect.defineProperty;
const refuse = () => { throw new TypeErr("the global object is frozen: a scriptlet cannot redefine its globals"); };
Object.defineProperty = function defineProperty(o, key, desc) {
  if (locked && o === G) refuse();
  return defineProperty_(o, key, desc);
};
Object.defineProperties = function defineProperties(o, props) {
  if (locked && o === G) refuse();
  return defineProps(o, props);
};
Reflect.defineProperty = function defineProperty(o, key, desc) {
  return locked && o === G ? false : reflectDefine(o, key, desc);
};

const freezeNode = (k, v) => (typeof v === "object" && v !== null ? freeze(v) : v);
const parseFrozen = (json) => parse(json, freezeNode);
const bySlot = []; // member slot (a small integer the host assigns) -> deep-frozen member, shared by every call
const instancesBySlot = []; // the same for instances (slots per session, see instanceSync.ts)
let candidateSlots = new U32(0); // the candidates the host sent last (set_target asks the host: host.candidate)
let pristine = null; // an untouched list of them, to copy for the next call with the same ranking
const slotOfName = create(null); // member name -> slot

/** What the current call did; null outside a call (top-level code). */
let call = null;
const newCall = (resources, membersVersion, instancesVersion, countsVersion) => ({
  resources, membersVersion, instancesVersion, countsVersion, target: null, failure: null, deliberate: false,
  logs: [], logBytes: 0, truncated: false,
});
const callState = () => stringify([call.target, call.failure, call.deliberate, call.logs]);

function kind(v) {
  if (v === null) return "null";
  if (isArray(v)) return "array";
  return typeof v;
}
function fromHost(text) {
  if (typeof text === "string" && text.length > 0 && text[0] === "!") throw new Err(apply(strSlice, text, [1]));
  return text;
}
/** Stores [[slot, value]...] (value null: gone) into a slot cache (bySlot, instancesBySlot). */
function applyUpdates(store, updates) {
  for (let i = 0; i < updates.length; i++) {
    const slot = updates[i][0];
    while (store.length < slot) store[store.length] = null; // keep the array dense (fast)
    store[slot] = updates[i][1];
  }
}
function applyMemberUpdates(updates) {
  applyUpdates(bySlot, updates);
  for (let i = 0; i < updates.length; i++) slotOfName[updates[i][1].server_name] = updates[i][0];
}
function listOf(store, slots) {
  const out = new ArrC(slots.length); // sized up front: ~15% faster to fill in QuickJS
  for (let i = 0; i < slots.length; i++) out[i] = store[slots[i]];
  return out;
}
/** Runs a helper's cache refresh; if it fails midway, the host forgets what it believes we hold. */
function refresh(fetch) {
  try {
    return fetch();
  } catch (e) {
    host.forget();
    throw e;
  }
}
`;

/** What the host calls: run a placement, read the call's state after a throw, describe, lock down. */
const INTERNALS = String.raw`
return {
  /**
   * One placement call: payload = [request, resources, membersVersion, instancesVersion, countsVersion];
   * updates = [[slot, member]...] to cache first, if any; slots = the candidates' slots (an
   * ArrayBuffer of uint32), or undefined when they are the same as last call's.
   * Returns [kind, value, target, failure, deliberate, logs] as JSON: kind A = accepted,
   * S = rejected with the string value, T = returned something else (value = its type).
   */
  run(fn, payload, updates, slots) {
    lastMark = 0;
    if (updates !== undefined) applyMemberUpdates(parseFrozen(updates));
    const p = parse(payload);
    let candidates;
    if (slots !== undefined) {
      // a new ranking: its list goes to the scriptlet as it is
      candidateSlots = new U32(slots);
      candidates = listOf(bySlot, candidateSlots);
      pristine = null;
    } else {
      if (pristine === null) pristine = listOf(bySlot, candidateSlots);
      candidates = apply(arrSlice, pristine, []);
    }
    call = newCall(p[1], p[2], p[3], p[4]);
    const r = fn(p[0], candidates);
    const head = r === undefined ? '["A",null,' : typeof r === "string" ? '["S",' + stringify(r) + "," : '["T","' + typeof r + '",';
    const out = head + apply(strSlice, callState(), [1]);
    call = null;
    return out;
  },
  /** The loop the call (or the top-level code) was in last: its mark's number, 0 for none. */
  lastMark() {
    return lastMark;
  },
  /** After a throw: what the call had done by then (JSON [target, failure, deliberate, logs]). */
  state() {
    return call === null ? "[null,null,false,[]]" : callState();
  },
  update(json) {
    applyMemberUpdates(parseFrozen(json));
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
    locked = true;
  },
};
`;

export const BOOTSTRAP_SOURCE = `(function (host) {${PRELUDE}${GUEST_HELPERS}${INTERNALS}})`;
