/**
 * Healing with a fake clock (each advance runs the liveness and healing sweeps, as the service's
 * timers do): an offline member is evacuated in mode heal once its silence passes the threshold,
 * only what can start elsewhere moves, the partition guard, one heal at a time, the fence
 * command, the acknowledged threshold, and a member that comes back.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ADMIN, makeHarness, type Harness } from "../support/harness.ts";

let h: Harness;
let events: any[];
beforeEach(async () => {
  h = await makeHarness();
  events = [];
  h.berth.services.bus.subscribe((e) => { if (e.type === "lifecycle") events.push(e.metadata); });
  expect((await h.request("PATCH", "/1.0", { config: { "cluster.offline_threshold": 20, "cluster.healing_threshold": 30 } })).status).toBe(200);
  expect((await h.request("POST", "/1.0/storage-pools", { name: "ceph", driver: "ceph" })).status).toBe(201);
  expect((await h.request("POST", "/1.0/storage-pools", { name: "local", driver: "dir" })).status).toBe(201);
});
afterEach(async () => { await h.close(); });

const shared = { root: { type: "disk", path: "/", pool: "ceph" } };
const local = { root: { type: "disk", path: "/", pool: "local" } };
const create = (name: string, target: string, body: Record<string, unknown> = {}) => h.createInstance({ name, start: true, ...body }, `target=${target}`);
const get = async (name: string) => (await h.request("GET", `/1.0/instances/${name}`)).body.metadata;
const member = async (name: string) => (await h.request("GET", `/1.0/cluster/members/${name}`)).body.metadata;
/** Moves time on by `seconds`, heartbeating the given members just before the last second. */
const passWith = async (seconds: number, alive: string[]) => {
  await h.clock.advance(seconds - 1);
  for (const name of alive) await h.heartbeat(name);
  await h.clock.advance(1);
};
const settle = () => h.berth.services.operations.settle();
/** Polls (real time) until test() holds: for what the monitor's own timers do. */
const waitFor = async (test: () => Promise<boolean>, what: string) => {
  const end = Date.now() + 20_000;
  while (!(await test())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("the healing loop", () => {
  it("heals a member silent past the threshold: what can start elsewhere moves and runs, the rest stays and is reported", async () => {
    for (const name of ["n1", "n2", "n3"]) await h.addMember(name);
    await create("web", "n1", { devices: shared });
    await create("db", "n1", { devices: local });
    await create("cache", "n1", { devices: local, config: { "berth.stateless": "true" } });
    await create("pinned", "n1", { devices: shared, config: { "cluster.evacuate": "stop" } });
    await passWith(25, ["n2", "n3"]); // n1 is Offline, not yet due
    expect(await member("n1")).toMatchObject({ status: "Offline" });
    expect(events.some((e) => e.action === "cluster-member-healed")).toBe(false);
    await passWith(10, ["n2", "n3"]); // 35 s of silence > 30
    await settle();
    await h.berth.healing.tick(); // notices the end of the heal
    expect((await get("web")).location).not.toBe("n1");
    expect(await get("web")).toMatchObject({ status: "Running", config: expect.objectContaining({ "volatile.evacuate.origin": "n1" }) });
    expect((await get("cache")).location).not.toBe("n1");
    expect((await get("db")).location).toBe("n1");
    expect((await get("pinned")).location).toBe("n1");
    expect((await member("n1")).status).toBe("Evacuated");
    expect(events).toContainEqual(expect.objectContaining({ action: "cluster-member-healed", context: { moved: 2, stayed: 2, failed: 0 } }));
    const grouped = (await h.request("GET", "/1.0/operations?recursion=1")).body.metadata; // by status, as LXD
    const op = (Object.values(grouped).flat() as any[]).find((o) => o.description.includes("n1"));
    const why = Object.fromEntries(op.metadata.instances.map((i: any) => [i.name, i.why]));
    expect(why.db).toMatch(/pool "local" \(dir\), which is not shared/);
    expect(why.pinned).toMatch(/cluster.evacuate=stop/);
    const metrics = await h.berth.app.request("/1.0/metrics", { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/berth_heals\{outcome="succeeded"\} 1/);
  });

  it("runs cluster.healing.max_parallel steps at once, not the evacuation's limit", async () => {
    expect((await h.request("PATCH", "/1.0", { config: { "cluster.evacuate.max_parallel": 1, "cluster.healing.max_parallel": 3 } })).status).toBe(200);
    for (const name of ["n1", "n2", "n3"]) await h.addMember(name);
    for (let i = 1; i <= 5; i++) await create(`w${i}`, "n1", { devices: shared });
    h.executor.hold((a) => a.kind === "start");
    await passWith(35, ["n2", "n3"]);
    await Promise.all([1, 2, 3].map(() => h.executor.next((a) => a.kind === "start")));
    await new Promise((r) => setTimeout(r, 50)); // a fourth would be asked for by now if the limit let it
    expect(h.executor.holding.filter((a) => a.kind === "start")).toHaveLength(3);
    h.executor.releaseAll();
    await settle();
    for (let i = 1; i <= 5; i++) expect((await get(`w${i}`)).location).not.toBe("n1");
  });

  it("with its timer running, starts a heal when the member's threshold passes, not at the next pass", async () => {
    for (const name of ["n1", "n2", "n3"]) await h.addMember(name);
    await create("web", "n1", { devices: shared });
    await passWith(29, ["n2", "n3"]); // n1 silent for 29 s of 30
    h.clock.ms += 900;
    h.berth.healing.start(600_000); // a pass now; the next one ten minutes away
    try {
      await waitFor(async () => h.berth.healing.passes === 1, "the first pass");
      expect((await get("web")).location).toBe("n1");
      h.clock.ms += 200; // 30.1 s: due; the pass timed for the threshold starts the heal
      await waitFor(async () => (await get("web")).location !== "n1", "the heal");
    } finally {
      h.berth.healing.stop();
    }
    await settle();
    expect((await member("n1")).status).toBe("Evacuated");
  });

  it("does nothing with healing_threshold 0, and never heals a member that never heartbeated", async () => {
    expect((await h.request("PATCH", "/1.0", { config: { "cluster.healing_threshold": 0 } })).status).toBe(200);
    for (const name of ["n1", "n2", "n3"]) await h.addMember(name);
    await create("web", "n1", { devices: shared });
    await passWith(100, ["n2", "n3"]);
    expect((await member("n1")).status).toBe("Offline");
    expect((await get("web")).location).toBe("n1");
    expect((await h.request("PATCH", "/1.0", { config: { "cluster.healing_threshold": 30 } })).status).toBe(200);
    await h.request("POST", "/1.0/cluster/members", { server_name: "never" }); // Pending: never heartbeated
    await passWith(5, ["n2", "n3"]);
    await settle();
    expect((await member("never")).status).not.toBe("Evacuated");
  });

  it("holds back while half the members or more are silent (the partition guard), and says so", async () => {
    for (const name of ["n1", "n2", "n3", "n4"]) await h.addMember(name);
    await create("web", "n1", { devices: shared });
    await passWith(35, ["n3", "n4"]); // n1 and n2 silent: 2 of 4 online is no majority
    await settle();
    expect((await get("web")).location).toBe("n1");
    expect(events).toContainEqual(expect.objectContaining({ action: "cluster-healing-held", context: expect.objectContaining({ online: 2, members: 4 }) }));
    expect((await member("n1")).message).toMatch(/healing held back: only 2 of 4 members are online/);
    await passWith(2, ["n2", "n3", "n4"]); // n2 is back: 3 of 4
    await settle();
    expect((await get("web")).location).not.toBe("n1");
  });

  it("members cut off together fall silent a heartbeat apart: the first is not healed while the second still looks online", async () => {
    for (const name of ["n1", "n2", "n3", "n4"]) await h.addMember(name);
    await create("web", "n1", { devices: shared });
    await passWith(16, ["n2", "n3", "n4"]); // n1 stopped first
    await passWith(15, ["n3", "n4"]); // n1 silent 31 s (due at 30); n2 silent 15 s, under the offline threshold (20) but past half of it
    await settle();
    expect((await get("web")).location).toBe("n1");
    expect((await member("n1")).message).toMatch(/healing held back/);
  });

  it("heals one member at a time, the one silent longest first", async () => {
    for (const name of ["n1", "n2", "n3", "n4", "n5"]) await h.addMember(name);
    await create("a", "n1", { devices: shared });
    await create("b", "n2", { devices: shared });
    await passWith(5, ["n2", "n3", "n4", "n5"]); // n1 went silent 5 s before n2
    h.executor.hold();
    await passWith(31, ["n3", "n4", "n5"]);
    const first = await h.executor.next(); // the first heal is under way and held
    expect(first.name).toBe("a");
    await h.clock.advance(1); // another sweep while it runs: n2 waits its turn
    expect((await member("n2")).status).toBe("Offline");
    h.executor.releaseAll();
    first.release();
    await settle();
    await passWith(1, ["n3", "n4", "n5"]); // the next sweep starts n2's heal
    h.executor.releaseAll();
    await settle();
    expect((await member("n1")).status).toBe("Evacuated");
    expect((await member("n2")).status).toBe("Evacuated");
  });

  it("a fence command that fails aborts the heal, and one that succeeds lets it go on", async () => {
    for (const name of ["n1", "n2", "n3"]) await h.addMember(name);
    await create("web", "n1", { devices: shared });
    expect((await h.request("PATCH", "/1.0", { config: { "cluster.healing.fence_command": "/bin/false" } })).status).toBe(200);
    await passWith(35, ["n2", "n3"]);
    await settle();
    expect((await get("web")).location).toBe("n1");
    expect(events).toContainEqual(expect.objectContaining({ action: "cluster-member-heal-aborted", context: { reason: expect.stringMatching(/exited with code 1/) } }));
    // Not tried again while it stays silent; it comes back, goes silent again, and the fence now agrees.
    expect((await h.request("PATCH", "/1.0", { config: { "cluster.healing.fence_command": "/bin/true" } })).status).toBe(200);
    await passWith(1, ["n1", "n2", "n3"]);
    await passWith(35, ["n2", "n3"]);
    await settle();
    expect((await get("web")).location).not.toBe("n1");
  });
});

describe("thresholds and a member that comes back", () => {
  it("a heartbeat answer carries the healing threshold and the fence margin; a member is judged by the larger of the configured and its acknowledged one", async () => {
    for (const name of ["n1", "n2", "n3"]) await h.addMember(name);
    expect((await h.request("PATCH", "/1.0", { config: { "cluster.healing_threshold": 60 } })).status).toBe(200);
    const answer = await h.request("POST", "/1.0/cluster/members/n1/heartbeat", {});
    expect(answer.body.metadata).toMatchObject({ healing_threshold: 60, fence_margin: 12 });
    await create("web", "n1", { devices: shared });
    expect((await h.request("PATCH", "/1.0", { config: { "cluster.healing_threshold": 30 } })).status).toBe(200);
    await passWith(35, ["n2", "n3"]); // past 30 but n1 last acknowledged 60: its supervisors fence at 48
    await settle();
    expect((await get("web")).location).toBe("n1");
    await passWith(30, ["n2", "n3"]);
    await settle();
    expect((await get("web")).location).not.toBe("n1");
  });

  it("a member is judged by the threshold its heartbeat says its fence lease runs on, since the answer lowering it may be lost", async () => {
    for (const name of ["n1", "n2", "n3"]) await h.addMember(name);
    await create("web", "n1", { devices: shared });
    expect((await h.request("PATCH", "/1.0", { config: { "cluster.healing_threshold": 20 } })).status).toBe(200);
    // n1's agent still runs on 60 (it has not received an answer offering 20): this answer offers 20 and may be lost.
    const answer = await h.request("POST", "/1.0/cluster/members/n1/heartbeat", { healing_threshold: 60 });
    expect(answer.body.metadata).toMatchObject({ healing_threshold: 20, fence_margin: 4 });
    await passWith(40, ["n2", "n3"]); // past 20, but its supervisors fence only at 48
    await settle();
    expect((await get("web")).location).toBe("n1");
    await passWith(25, ["n2", "n3"]);
    await settle();
    expect((await get("web")).location).not.toBe("n1");
  });

  it("the desired state marks what healing would move, so the agent's supervisors fence exactly that", async () => {
    for (const name of ["n1", "n2"]) await h.addMember(name);
    await create("shared", "n1", { devices: shared });
    await create("pinned", "n1", { devices: local });
    await create("stateless", "n1", { devices: local, config: { "berth.stateless": "true" } });
    const token = (await h.request("POST", "/1.0/tokens", { role: "agent", member: "n1" })).body.metadata.token;
    const desired = (await h.request("GET", "/1.0/cluster/members/n1/desired", undefined, token)).body.metadata;
    expect(Object.fromEntries(desired.instances.map((i: any) => [i.name, i.fence]))).toEqual({ shared: true, pinned: false, stateless: true });
  });

  it("a member that comes back after its heal stays Evacuated and is no longer told to run what moved", async () => {
    for (const name of ["n1", "n2", "n3"]) await h.addMember(name);
    await create("web", "n1", { devices: shared });
    await passWith(35, ["n2", "n3"]);
    await settle();
    await h.heartbeat("n1");
    expect((await member("n1")).status).toBe("Evacuated");
    const token = (await h.request("POST", "/1.0/tokens", { role: "agent", member: "n1" })).body.metadata.token;
    const desired = (await h.request("GET", "/1.0/cluster/members/n1/desired", undefined, token)).body.metadata;
    expect(desired.instances).toEqual([]);
    expect((await h.request("PUT", `/1.0/instances/web/state`, { action: "start" })).status).toBe(202); // it runs elsewhere
  });

  it("an operator may ask for mode heal, and its dry run says what would move and what would stay", async () => {
    for (const name of ["n1", "n2"]) await h.addMember(name);
    await create("web", "n1", { devices: shared });
    await create("db", "n1", { devices: local });
    const plan = await h.request("POST", "/1.0/cluster/members/n1/state", { action: "evacuate", mode: "heal", dry_run: true });
    expect(plan.status).toBe(200);
    expect(plan.body.metadata.instances.map((i: any) => [i.name, i.action, i.target])).toEqual([["db", "stay", null], ["web", "heal", "n2"]]);
  });
});
