/**
 * The §4 globals, as guest code (part of the bootstrap closure, see bootstrap.ts). Argument checks
 * throw TypeErrors that name the helper and the value. set_target, fail() and logs only touch the
 * guest-side call state; data helpers ask the host, and cache what they got by replica version.
 */
export const GUEST_HELPERS = String.raw`
/** The options of a data helper, checked: "" / false when not given. allowed has at most 3 names. */
function options(fname, o, allowed) {
  const out = { project: "", location: "", group: "", pending: false };
  if (o === undefined || o === null) return out;
  if (typeof o !== "object" || isArray(o)) {
    throw new TypeErr(fname + "() expects an options object such as {" + allowed.join(", ") + "}, got " + kind(o));
  }
  const keys = keysOf(o);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k !== allowed[0] && k !== allowed[1] && k !== allowed[2]) {
      throw new TypeErr(fname + "(): unknown option \"" + k + "\" (expected " + allowed.join(", ") + ")");
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
function inCall(fname) {
  if (call === null) throw new Err(fname + "() can only be called from instance_placement");
  return call;
}
/** Strings as they are; other values as JSON, or String() when JSON cannot (cycles, symbols). */
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
    const c = call;
    if (c === null || c.truncated) return; // top-level logs are dropped
    let out = "";
    for (let i = 0; i < args.length && out.length <= LOG_MAX_BYTES; i++) out += render(args[i]);
    const room = LOG_MAX_BYTES - c.logBytes;
    if (c.logs.length >= LOG_MAX_LINES || out.length > room) {
      if (room > 0 && c.logs.length < LOG_MAX_LINES) c.logs[c.logs.length] = [level, apply(strSlice, out, [0, room])];
      c.logs[c.logs.length] = ["warn", LOG_TRUNCATED];
      c.truncated = true;
      return;
    }
    c.logs[c.logs.length] = [level, out];
    c.logBytes += out.length;
  };
  defineProperty_(log, "name", { value: "log_" + level });
  return log;
}
function targetSetter(fname) {
  return function (name) {
    const c = inCall(fname);
    stringArg(fname, "name", name);
    const slot = slotOfName[name];
    for (let i = 0; slot !== undefined && i < candidateSlots.length; i++) {
      if (candidateSlots[i] === slot) {
        c.target = name;
        return;
      }
    }
    const message = "Invalid member name: " + (name.length > 200 ? apply(strSlice, name, [0, 200]) + "\u2026" : name);
    if (c.failure === null) c.failure = message; // sticky: the placement is rejected even if this is caught
    throw new Err(message);
  };
}
function cached(cache, key, version, fetch) {
  let hit = cache.entries[key];
  if (hit === undefined || hit[0] !== version) {
    hit = fetch(hit === undefined ? -1 : hit[0]);
    if (cache.size > 256) { cache.entries = create(null); cache.size = 0; }
    cache.size++;
    cache.entries[key] = hit;
  }
  return apply(arrSlice, hit[1], []); // the scriptlet's own list; the items are shared and frozen
}
const memberCache = { entries: create(null), size: 0 }; // group -> [version, members]
const instanceCache = { entries: create(null), size: 0 }; // filter -> [version, instances] (lists unfrozen: they copy faster)
// Counts of the current countsVersion: totals by pending+project, and by location (tables fetched
// whole, once, so a count per member costs no host call).
const countCache = { version: -1, totals: create(null), tables: create(null), size: 0 };
function countOf(project, location, pending) {
  const c = call;
  if (c === null) return host.count(project, location, pending);
  if (countCache.version !== c.countsVersion || countCache.size > 256) {
    countCache.version = c.countsVersion;
    countCache.totals = create(null);
    countCache.tables = create(null);
    countCache.size = 0;
  }
  const key = pending + project;
  if (location === "") {
    let n = countCache.totals[key];
    if (n === undefined) {
      n = countCache.totals[key] = host.count(project, "", pending);
      countCache.size++;
    }
    return n;
  }
  let table = countCache.tables[key];
  if (table === undefined) {
    table = countCache.tables[key] = setProto(parse(host.counts(project, pending)), null);
    countCache.size++;
  }
  const n = table[location];
  return n === undefined ? 0 : n;
}

const api = {
  log_info: logger("info"),
  log_warn: logger("warn"),
  log_error: logger("error"),
  set_target: targetSetter("set_target"),
  set_cluster_member_target: targetSetter("set_cluster_member_target"),
  fail(message) {
    const c = inCall("fail");
    const text = message === undefined ? "" : render(message);
    if (c.failure === null) {
      c.failure = text === "" ? "Placement rejected by the scriptlet (fail() called)" : text;
      c.deliberate = true;
    }
    throw new Err(c.failure);
  },
  get_cluster_member_resources(name) {
    return parse(fromHost(host.resources(stringArg("get_cluster_member_resources", "name", name))));
  },
  get_cluster_member_state(name) {
    return parse(fromHost(host.state(stringArg("get_cluster_member_state", "name", name))));
  },
  get_instance_resources() {
    const r = inCall("get_instance_resources").resources;
    return { cpu_cores: r.cpu_cores, memory_size: r.memory_size, root_disk_size: r.root_disk_size };
  },
  get_instances(o) {
    const f = options("get_instances", o, ["project", "location"]);
    const project = f.project, location = f.location, key = project + "\u0000" + location;
    const version = call === null ? -2 : call.instancesVersion;
    return cached(instanceCache, key, version, (known) => {
      // "version \u0001 updates \u0001 slots": only instances we lack or hold stale are sent
      const fresh = host.instances(project, location, "" + known);
      if (fresh === "") return instanceCache.entries[key];
      return refresh(() => {
        const i = apply(strIndexOf, fresh, ["\u0001"]), j = apply(strIndexOf, fresh, ["\u0001", i + 1]);
        applyUpdates(instancesBySlot, parseFrozen(apply(strSlice, fresh, [i + 1, j])));
        return [+apply(strSlice, fresh, [0, i]), listOf(instancesBySlot, parse(apply(strSlice, fresh, [j + 1])))];
      });
    });
  },
  get_instances_count(o) {
    const f = options("get_instances_count", o, ["project", "location", "pending"]);
    return countOf(f.project, f.location, f.pending ? "1" : "0");
  },
  get_cluster_members(o) {
    const f = options("get_cluster_members", o, ["group"]);
    const version = call === null ? -2 : call.membersVersion;
    return cached(memberCache, f.group, version, (known) => {
      // "version \u0001 updates \u0001 slots": only the updates (member objects) are frozen
      const fresh = host.members(f.group, "" + known);
      if (fresh === "") return memberCache.entries[f.group];
      return refresh(() => {
        const i = apply(strIndexOf, fresh, ["\u0001"]), j = apply(strIndexOf, fresh, ["\u0001", i + 1]);
        applyMemberUpdates(parseFrozen(apply(strSlice, fresh, [i + 1, j])));
        return [+apply(strSlice, fresh, [0, i]), listOf(bySlot, parse(apply(strSlice, fresh, [j + 1])))];
      });
    });
  },
  get_project(name) {
    return parse(fromHost(host.project(stringArg("get_project", "name", name))));
  },
};
const helperNames = keysOf(api);
for (let i = 0; i < helperNames.length; i++) {
  defineProperty_(G, helperNames[i], { value: freeze(api[helperNames[i]]), writable: false, enumerable: false, configurable: false });
}
`;
