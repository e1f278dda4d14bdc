/**
 * The §4 globals, as guest code (part of the bootstrap closure, see bootstrap.ts). Argument checks
 * throw TypeErrors that name the helper and the value. set_target, fail() and logs only touch the
 * guest-side call state; data helpers ask the host, and cache what they got by replica version.
 */
export const GUEST_HELPERS = String.raw`
/**
 * The options of a data helper, checked, into opt* ("" / false when not given): no allocation, as a
 * helper may be called once per member per placement. a0..a2: the option names it takes.
 */
let optProject = "", optLocation = "", optGroup = "", optPending = false;
function options(fname, o, a0, a1, a2) {
  let project = "", location = "", group = "", pending = false;
  if (o !== undefined && o !== null) {
    if (typeof o !== "object" || isArray(o)) {
      throw new TypeErr(fname + "() expects an options object such as {" + optionNames(a0, a1, a2) + "}, got " + kind(o));
    }
    for (const k in o) {
      if (k === "" || (k !== a0 && k !== a1 && k !== a2)) throw new TypeErr(fname + "(): unknown option \"" + k + "\" (expected " + optionNames(a0, a1, a2) + ")");
    }
    if (a0 === "group") group = optionString(fname, "group", o.group);
    else {
      project = optionString(fname, "project", o.project);
      location = optionString(fname, "location", o.location);
      const p = a2 === "pending" ? o.pending : undefined;
      if (p !== undefined && p !== null) {
        if (typeof p !== "boolean") throw new TypeErr(fname + "(): option pending must be a boolean, got " + kind(p));
        pending = p;
      }
    }
  }
  // Set last: a getter among the options may itself call a helper (and so options()).
  optProject = project; optLocation = location; optGroup = group; optPending = pending;
}
function optionNames(a0, a1, a2) {
  return a0 + (a1 === "" ? "" : ", " + a1) + (a2 === "" ? "" : ", " + a2);
}
function optionString(fname, name, v) {
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") throw new TypeErr(fname + "(): option " + name + " must be a string, got " + kind(v));
  return v;
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
    // Checked against the host's list, never the scriptlet's array: the first 64 candidates here (the
    // target is usually among the best ranked), the rest by asking the host (one host call costs
    // about as much as scanning 80 slots here).
    const slot = slotOfName[name];
    let found = false;
    for (let i = 0; slot !== undefined && i < candidateSlots.length && i < 64; i++) {
      if (candidateSlots[i] === slot) {
        found = true;
        break;
      }
    }
    if (!found && slot !== undefined && candidateSlots.length > 64) found = host.candidate(slot) === 1;
    if (found) {
      c.target = name;
      return;
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
    options("get_instances", o, "project", "location", "");
    const project = optProject, location = optLocation, key = project + "\u0000" + location;
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
    options("get_instances_count", o, "project", "location", "pending");
    return countOf(optProject, optLocation, optPending ? "1" : "0");
  },
  get_cluster_members(o) {
    options("get_cluster_members", o, "group", "", "");
    const group = optGroup;
    const version = call === null ? -2 : call.membersVersion;
    return cached(memberCache, group, version, (known) => {
      // "version \u0001 updates \u0001 slots": only the updates (member objects) are frozen
      const fresh = host.members(group, "" + known);
      if (fresh === "") return memberCache.entries[group];
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
