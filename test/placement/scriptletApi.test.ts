import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ADMIN, makeHarness, type Harness } from "../support/harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await makeHarness({ sandboxPoolSize: 1 });
  // A generous scriptlet limit (the tests about the limit set their own): a loaded machine must not fail placements on time.
  await h.request("PATCH", "/1.0", { config: { "scriptlet.timeout_ms": 10_000 } });
  for (const [name, domain] of [["a1", "rackA"], ["a2", "rackA"], ["b1", "rackB"]]) {
    await h.addMember(name, { failure_domain: domain });
  }
});
afterEach(async () => { await h.close(); });

const PICK_LAST = `
function instance_placement(request, candidate_members) {
  log_info("placing ", request.name, " reason=", request.reason);
  if (request.name.startsWith("bad")) return "names starting with bad are refused";
  set_target(candidate_members[candidate_members.length - 1].server_name);
}`;

describe("placement scriptlet over HTTP", () => {
  it("installs a scriptlet that then decides placements, logs to the event stream, and can be cleared", async () => {
    const logs: any[] = [];
    h.berth.services.bus.subscribe((e) => { if (e.type === "logging") logs.push(e); });
    const installed = await h.request("PATCH", "/1.0", { config: { "instances.placement.scriptlet": PICK_LAST } });
    expect(installed.status, installed.body.error).toBe(200);
    const first = await h.run("POST", "/1.0/instances", { name: "web1" });
    expect(first.status).toBe(202);
    expect(first.op?.status).toBe("Success");
    // Built-in ranking puts the three equal members in a seeded order; the scriptlet takes the last.
    const q = await h.request("POST", "/1.0/scheduler/placement", { name: "web2" });
    expect(q.body.metadata.scriptlet).toMatchObject({ called: true, rejected: null, error: null });
    expect(q.body.metadata.scriptlet.logs).toEqual([{ level: "info", message: "placing web2 reason=new" }]);
    const last = q.body.metadata.candidates.at(-1).server_name;
    expect(q.body.metadata.target).toBe(last);
    // The create's answer is its operation, whose metadata says where the instance landed.
    expect((await h.request("POST", "/1.0/instances", { name: "web2" })).body.metadata.metadata.location).toBe(last);
    expect(logs.some((e) => e.metadata.message === "placing web1 reason=new" && e.metadata.context.instance === "web1")).toBe(true);

    const refused = await h.request("POST", "/1.0/instances", { name: "bad1" });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toContain("names starting with bad are refused");

    await h.request("PATCH", "/1.0", { config: { "instances.placement.scriptlet": "" } });
    const q2 = await h.request("POST", "/1.0/scheduler/placement", { name: "web3" });
    expect(q2.body.metadata.scriptlet.called).toBe(false);
    expect((await h.run("POST", "/1.0/instances", { name: "bad2" })).op?.status).toBe("Success");
  });

  // Issue 13, point 4: a scriptlet that cannot place anything is refused at install.
  describe("installing runs a trial placement first", () => {
    const installedSource = async () => (await h.request("GET", "/1.0")).body.metadata.config["instances.placement.scriptlet"];
    const notice = async (method: string, body: unknown, query = "") => {
      const res = await h.berth.app.request(`/1.0${query}`, {
        method, headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" }, body: JSON.stringify(body),
      });
      const header = res.headers.get("berth-notice");
      return { status: res.status, body: (await res.json()) as { error: string }, notice: header === null ? null : decodeURIComponent(header) };
    };
    const THROWS = "function instance_placement(request, candidate_members) {\n  return candidate_members[9].server_name.length;\n}";
    const LOOPS = "function instance_placement(request, candidate_members) {\n  while (true) {}\n}";
    const EATS = "function instance_placement(request, candidate_members) {\n  const a = [];\n  while (true) a.push(new Array(100000).fill(1));\n}";

    it("refuses one that throws, times out or runs out of memory (400 with the trial's error), keeping the old one", async () => {
      // A generous limit, so on a loaded machine a scriptlet meant to throw is not stopped by the clock first.
      expect((await h.request("PATCH", "/1.0", { config: { "scriptlet.timeout_ms": 1000, "instances.placement.scriptlet": PICK_LAST } })).status).toBe(200);
      for (const [source, error] of [[THROWS, /TypeError: .*server_name.* \(line 2:\d+\)/], [EATS, /memory limit of 32 MiB/]] as const) {
        const r = await h.request("PATCH", "/1.0", { config: { "instances.placement.scriptlet": source } });
        expect(r.status).toBe(400);
        expect(r.body.error).toMatch(/^The scriptlet failed a trial placement \(reason new, instance "scriptlet-trial" without limits, 3 Online member\(s\) as candidates\)/);
        expect(r.body.error).toMatch(error);
        expect(await installedSource()).toBe(PICK_LAST);
      }
      expect((await h.request("PATCH", "/1.0", { config: { "scriptlet.timeout_ms": 200 } })).status).toBe(200);
      const loop = await h.request("PUT", "/1.0", { config: { "instances.placement.scriptlet": LOOPS } });
      expect(loop.status).toBe(400);
      expect(loop.body.error).toMatch(/time limit of 200 ms/);
      expect(await installedSource()).toBe(PICK_LAST);
      // The old one still decides.
      expect((await h.run("POST", "/1.0/instances", { name: "after" })).op?.status).toBe("Success");
    });

    it("installs a refusal or fail() (policy), and says what the trial did", async () => {
      for (const source of [
        'function instance_placement(request, candidate_members) { return "closed"; }',
        'function instance_placement(request, candidate_members) { fail("closed"); }',
      ]) {
        const r = await notice("PATCH", { config: { "instances.placement.scriptlet": source } });
        expect(r.status).toBe(200);
        expect(r.notice).toMatch(/^Trial placement passed: the scriptlet refused it \(closed\) in [\d.]+ ms\.$/);
        expect(await installedSource()).toBe(source);
      }
      const chose = await notice("PATCH", { config: { "instances.placement.scriptlet": PICK_LAST } });
      expect(chose.notice).toMatch(/^Trial placement passed: the scriptlet chose "[ab]\d" in/);
    });

    it("skips the trial when no member is Online, and says so", async () => {
      await h.clock.advance(3600); // every member Offline
      const r = await notice("PATCH", { config: { "instances.placement.scriptlet": THROWS } });
      expect(r.status).toBe(200);
      expect(r.notice).toBe("Trial placement skipped: no Online member to offer the scriptlet as a candidate.");
      expect(await installedSource()).toBe(THROWS);
    });

    it("?force=true installs one that fails its trial, and says it was not tried; invalid code is refused even so", async () => {
      const r = await notice("PATCH", { config: { "instances.placement.scriptlet": THROWS } }, "?force=true");
      expect(r.status).toBe(200);
      expect(r.notice).toContain("Trial placement not run (force)");
      expect(await installedSource()).toBe(THROWS);
      const broken = await notice("PATCH", { config: { "instances.placement.scriptlet": "function instance_placement(a, b) {\n  return (;\n}" } }, "?force=true");
      expect(broken.status).toBe(400);
      expect(broken.body.error).toMatch(/line 2:/);
    });

    // Each on a fresh sandbox: a call right after a runaway one can meet the watchdog while the
    // worker still rebuilds its session, on a loaded machine (then no line is known at all).
    it("a time-out in a loop names the loop's line (not 1:1) in the trial", async () => {
      const source = "// a comment\nfunction instance_placement(request, candidate_members) {\n  let n = 0;\n  while (n >= 0) { n = n + request.name.length; }\n}";
      await h.request("PATCH", "/1.0", { config: { "scriptlet.timeout_ms": 200 } });
      const r = await h.request("PATCH", "/1.0", { config: { "instances.placement.scriptlet": source } });
      expect(r.status).toBe(400);
      expect(r.body.error).toMatch(/time limit of 200 ms \(line 4:\d+\)/);
    });

    it("a time-out in a loop names the loop's line (not 1:1) in a scriptlet test", async () => {
      await h.request("PATCH", "/1.0", { config: { "scriptlet.timeout_ms": 200 } });
      const test = await h.request("POST", "/1.0/scheduler/scriptlet/test", { name: "x", source: LOOPS });
      expect(test.body.metadata.scriptlet.error).toMatch(/time limit of 200 ms \(line 2:\d+\)/);
    });
  });

  // Issue 13, point 5: as LXD, the scriptlet runs only when Berth chooses (no target, or @group).
  it("is not called for an explicit member target, and is for @group or no target (create, move and query)", async () => {
    const SAYS_NO = `function instance_placement(request, candidate_members) { log_info("asked for ", request.name); return "the scriptlet was asked"; }`;
    expect((await h.request("POST", "/1.0/cluster/groups", { name: "racka", members: ["a1", "a2"] })).status).toBe(201);
    const logs: string[] = [];
    h.berth.services.bus.subscribe((e) => { if (e.type === "logging") logs.push(String((e.metadata as { message: unknown }).message)); });
    expect((await h.request("PATCH", "/1.0", { config: { "instances.placement.scriptlet": SAYS_NO }, })).status).toBe(200);
    logs.length = 0;
    const named = await h.run("POST", "/1.0/instances?target=a2", { name: "named" });
    expect(named.status, named.body.error).toBe(202);
    expect(named.op?.status).toBe("Success");
    const q = (await h.request("POST", "/1.0/scheduler/placement", { name: "q", target: "b1" })).body.metadata;
    expect(q).toMatchObject({ target: "b1", scriptlet: { called: false }, error: null });
    const moved = await h.run("POST", "/1.0/instances/named?target=b1", { migration: true });
    expect(moved.status, moved.body.error).toBe(202);
    expect(moved.op?.status).toBe("Success");
    expect(logs).toEqual([]);
    for (const query of ["", "?target=@racka"]) {
      const r = await h.request("POST", `/1.0/instances${query}`, { name: `chosen${query ? "g" : ""}` });
      expect(r.status).toBe(400);
      expect(r.body.error).toContain("the scriptlet was asked");
    }
    const r = await h.request("POST", "/1.0/instances/named", { migration: true });
    expect(r.status).toBe(400);
    expect(r.body.error).toContain("the scriptlet was asked");
    expect(logs).toEqual(["asked for chosen", "asked for choseng", "asked for named"]);
  });

  it("refuses an invalid scriptlet with line:column and keeps the old one", async () => {
    await h.request("PATCH", "/1.0", { config: { "instances.placement.scriptlet": PICK_LAST } });
    const syntax = await h.request("PATCH", "/1.0", { config: { "instances.placement.scriptlet": "function instance_placement(a, b) {\n  let x = ;\n}" } });
    expect(syntax.status).toBe(400);
    expect(syntax.body.error).toMatch(/2:\d+/);
    const arity = await h.request("PATCH", "/1.0", { config: { "instances.placement.scriptlet": "function instance_placement(a) {}" } });
    expect(arity.status).toBe(400);
    expect(arity.body.error).toContain("two");
    const missing = await h.request("PATCH", "/1.0", { config: { "instances.placement.scriptlet": "var x = 1;" } });
    expect(missing.status).toBe(400);
    expect((await h.request("GET", "/1.0")).body.metadata.config["instances.placement.scriptlet"]).toBe(PICK_LAST);
    const q = await h.request("POST", "/1.0/scheduler/placement", { name: "x" });
    expect(q.body.metadata.scriptlet.called).toBe(true);
  });

  it("tests a given source against the live cluster without installing it", async () => {
    const r = await h.request("POST", "/1.0/scheduler/scriptlet/test", {
      source: `function instance_placement(req, c) { log_warn("only rackB"); for (const m of c) if (m.failure_domain === "rackB") { set_target(m.server_name); return; } return "no rackB"; }`,
      name: "probe", reason: "evacuation",
    });
    expect(r.status).toBe(200);
    expect(r.body.metadata).toMatchObject({ target: "b1", scriptlet: { called: true, target: "b1", logs: [{ level: "warn", message: "only rackB" }] } });
    expect(typeof r.body.metadata.scriptlet.duration_ms).toBe("number");
    expect((await h.request("GET", "/1.0")).body.metadata.config["instances.placement.scriptlet"]).toBeUndefined();
    const bad = await h.request("POST", "/1.0/scheduler/scriptlet/test", { source: "function instance_placement(a, b) { (" });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/1:\d+/);
  });

  it("a runaway scriptlet costs only its own placement", async () => {
    await h.request("PATCH", "/1.0", { config: { "scriptlet.timeout_ms": 100, "instances.placement.scriptlet": "function instance_placement(r, c) { if (r.name === 'loop') for (;;) {} }" } });
    const [loop, other] = await Promise.all([
      h.request("POST", "/1.0/instances", { name: "loop" }),
      h.request("GET", "/1.0/cluster/members"),
    ]);
    expect(other.status).toBe(200);
    expect(loop.status).toBe(400);
    // The limit set in the same change as the first scriptlet (which starts the sandbox) is the one in force.
    expect(loop.body.error).toMatch(/time limit of 100 ms/);
    // The next placement runs in a fresh runtime (how long the stop took is bench/scriptlet's; a
    // generous limit here, so that a loaded machine cannot fail the fine call on time).
    await h.request("PATCH", "/1.0", { config: { "scriptlet.timeout_ms": 10_000 } });
    expect((await h.run("POST", "/1.0/instances", { name: "fine" })).op?.status).toBe("Success");
  });

  it("the spread-across-failure-domains example spreads a project over the racks", async () => {
    const source = readFileSync(new URL("../../scriptlets/spread-failure-domains.js", import.meta.url), "utf8");
    expect((await h.request("PATCH", "/1.0", { config: { "instances.placement.scriptlet": source } })).status).toBe(200);
    const racks: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await h.request("POST", "/1.0/instances", { name: `s${i}` });
      racks.push(r.body.metadata.metadata.location === "b1" ? "rackB" : "rackA");
    }
    expect(racks.filter((r) => r === "rackA").length).toBe(2);
    expect(racks.filter((r) => r === "rackB").length).toBe(2);
  });
});
