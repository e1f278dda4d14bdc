import { describe, expect, it } from "vitest";
import type { ChooseHook, PlaceOutcome } from "../../src/scheduler/placer.ts";
import { Placer } from "../../src/scheduler/placer.ts";
import { rank } from "../../src/scheduler/pipeline.ts";
import { seedFor } from "../../src/scheduler/seed.ts";
import type { PlacementRequest } from "../../src/scheduler/types.ts";
import { cluster, config, fill, member, request } from "./fixtures.ts";

const tenEqualMembers = () => cluster(...Array.from({ length: 10 }, (_, i) => member(`n${i}`)));
const yieldToOthers = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
const placeMany = (placer: Placer, count: number, req = (i: number) => request(`c${i}`).build()) =>
  Promise.all(Array.from({ length: count }, (_, i) => placer.place(req(i), config(), seedFor("default", `c${i}`), `default/c${i}`)));
const pendingPerMember = (view: ReturnType<typeof cluster>) => view.memberNames().map((n) => view.pendingCount(n));
const memberOf = (outcome: PlaceOutcome) => (outcome.ok ? outcome.member : `(${outcome.code})`);

describe("Placer reservations", () => {
  it("100 placements in flight on 10 equal empty members land 10 on each", async () => {
    const view = tenEqualMembers();
    const outcomes = await placeMany(new Placer(view), 100);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(pendingPerMember(view)).toEqual(Array(10).fill(10));
  });

  it.each<[string, ChooseHook]>([
    ["accepts the built-in choice", async () => { await yieldToOthers(); return {}; }],
    ["sets the first candidate explicitly", async (_r, candidates) => { await yieldToOthers(); return { target: candidates[0].member }; }],
  ])("with an async hook that %s, 100 concurrent placements still land 10 on each", async (_label, hook) => {
    // The built-in best is reserved before the hook is awaited, so concurrent decisions see it.
    const view = tenEqualMembers();
    const outcomes = await placeMany(new Placer(view, hook), 100);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(pendingPerMember(view)).toEqual(Array(10).fill(10));
  });

  it("a member with room for exactly one more gets exactly one of two concurrent placements", async () => {
    // n1: 1 cpu × ratio 4 = 4 cores, 3 requested → room for one 1-core instance. The hook yields,
    // so both placements are decided before either finishes.
    const view = cluster(member("n1").cpu(1));
    fill(view, "n1", 3, { cpu: 1 });
    const hookCalls: string[] = [];
    const placer = new Placer(view, async (req) => { hookCalls.push(req.name); await yieldToOthers(); return {}; });
    const outcomes = await placeMany(placer, 2, (i) => request(`c${i}`).cpu(1).build());
    expect(outcomes.map(memberOf).sort()).toEqual(["(unschedulable)", "n1"]);
    const loser = outcomes.find((o) => !o.ok)!;
    expect(loser.ok === false && loser.code === "unschedulable" && loser.rejected).toEqual([
      {
        member: "n1", filter: "resources", reason: "resources: needs 1 cpu, 0 of 4 (1 × ratio 4) free",
        insufficient: [{ resource: "cpu", requested: 1, allocated: 4, capacity: 4 }], // the winner's 1 core counts
      },
    ]);
    expect(view.usage("n1")).toMatchObject({ instanceCount: 4, pending: 1, cpu: 4 });
  });

  it("commit keeps the placement; release gives it back", async () => {
    const view = cluster(member("n1"));
    const placer = new Placer(view);
    const a = await placer.place(request("a").cpu(1).build(), config(), 1, "p/a");
    const b = await placer.place(request("b").cpu(1).build(), config(), 1, "p/b");
    expect(a.ok && b.ok && [a.reservationKey, b.reservationKey]).toEqual(["p/a", "p/b"]);
    view.commit("p/a");
    view.release("p/b");
    expect(view.usage("n1")).toMatchObject({ instanceCount: 1, pending: 0, cpu: 1 });
  });

  it("refuses a second placement of the same key while the first is in flight", async () => {
    const view = cluster(member("n1"));
    const placer = new Placer(view);
    await placer.place(request("a").build(), config(), 1, "p/a");
    const again = await placer.place(request("a").build(), config(), 1, "p/a");
    expect(again).toMatchObject({ ok: false, code: "in-flight" });
    expect(view.pendingCount("n1")).toBe(1);
  });

  it("no candidate: unschedulable with every member's reason, nothing reserved", async () => {
    const view = cluster(member("n1").status("Offline"), member("n2").arch("aarch64"));
    const outcome = await new Placer(view).place(request("web").arch("x86_64").build(), config(), 1, "p/web");
    expect(outcome.ok).toBe(false);
    if (outcome.ok || outcome.code !== "unschedulable") throw new Error("expected unschedulable");
    expect(outcome.message).toBe('No cluster member can take instance "web" in project "default": 2 rejected (status: 1, architecture: 1)');
    expect(outcome.rejected.map((r) => r.reason)).toEqual(["status: member is Offline", "architecture: member is aarch64 and cannot run x86_64"]);
    expect(pendingPerMember(view)).toEqual([0, 0]);
  });
});

describe("Placer hook", () => {
  // n1 has 0 instances, n2 1, n3 2: the built-in order is n1, n2, n3.
  const threeMembers = () => {
    const view = cluster(member("n1"), member("n2"), member("n3"));
    fill(view, "n2", 1);
    fill(view, "n3", 2);
    return view;
  };
  const req: PlacementRequest = request("web").cpu(1).build();

  it("receives the candidates best first and may choose one that is not first", async () => {
    const view = threeMembers();
    let seen: string[] = [];
    const placer = new Placer(view, async (_r, candidates) => {
      seen = candidates.map((c) => c.member);
      return { target: "n3" };
    });
    const outcome = await placer.place(req, config(), 1, "p/web");
    expect(seen).toEqual(["n1", "n2", "n3"]);
    expect(outcome).toMatchObject({ ok: true, member: "n3", chosenBy: "hook", reservationKey: "p/web" });
    expect(pendingPerMember(view)).toEqual([0, 0, 1]);
  });

  it("a rejection is returned as the hook's message and leaves nothing reserved", async () => {
    const view = threeMembers();
    const placer = new Placer(view, async () => ({ reject: "web instances are frozen today" }));
    expect(await placer.place(req, config(), 1, "p/web")).toEqual({ ok: false, code: "rejected", message: "web instances are frozen today" });
    expect(pendingPerMember(view)).toEqual([0, 0, 0]);
  });

  it.each<[string, ChooseHook, RegExp]>([
    ["throws", async () => { throw new Error("boom"); }, /The placement hook failed: boom/],
    ["chooses a member that is not a candidate", async () => ({ target: "ghost" }), /chose "ghost", which is not a candidate \(candidates: n1, n2, n3\)/],
  ])("a hook that %s is hook-failed, not the cluster's fault, and leaves nothing reserved", async (_label, hook, message) => {
    const view = threeMembers();
    const outcome = await new Placer(view, hook).place(req, config(), 1, "p/web");
    expect(outcome).toMatchObject({ ok: false, code: "hook-failed", message: expect.stringMatching(message) });
    expect(pendingPerMember(view)).toEqual([0, 0, 0]);
  });

  it("re-runs when the chosen member stopped fitting while the hook ran", async () => {
    // The first call chooses n2 and, while it "runs", another placement fills n2
    // (8 cpu × 4 = 32 cores). The re-check fails, the decision runs again: n2 is now filtered
    // out, and the second call sees only n1, n3 and chooses n3.
    const view = threeMembers();
    const calls: string[][] = [];
    const placer = new Placer(view, async (_r, candidates) => {
      calls.push(candidates.map((c) => c.member));
      if (calls.length === 1) {
        view.reserve("other/big", "n2", { cpu: 32, memory: 0, disk: 0, gpu: 0 });
        return { target: "n2" };
      }
      return { target: "n3" };
    });
    const outcome = await placer.place(req, config(), 1, "p/web");
    expect(calls).toEqual([["n1", "n2", "n3"], ["n1", "n3"]]);
    expect(outcome).toMatchObject({ ok: true, member: "n3" });
    expect(view.reservationOf("p/web")).toBe("n3");
  });

  it("gives up after maxAttempts when every choice fills up meanwhile", async () => {
    // Each round the hook picks the best candidate and, while it "runs", another placement fills
    // exactly that member. With maxAttempts 3, three rounds pick three different members (a
    // filled one is filtered out of the next round) and all fail the re-check; the placer stops
    // there instead of looping, although a fourth member is still free.
    const view = cluster(member("n1"), member("n2"), member("n3"), member("n4"));
    const chosen: string[] = [];
    const placer = new Placer(view, async (_r, candidates) => {
      const target = candidates[0].member;
      chosen.push(target);
      view.reserve(`other/${target}`, target, { cpu: 32, memory: 0, disk: 0, gpu: 0 });
      return { target };
    }, { maxAttempts: 3 });
    const outcome = await placer.place(req, config(), 1, "p/web");
    expect(new Set(chosen).size).toBe(3);
    expect(outcome).toMatchObject({ ok: false, code: "unschedulable", message: expect.stringMatching(/3 times \(last: n\d: resources: needs 1 cpu/) });
    expect(view.reservationOf("p/web")).toBeUndefined();
  });
});

describe("Placer query (dry run)", () => {
  it("gives the same answer as place for the same state and seed, and reserves nothing", async () => {
    for (const hook of [undefined, async (_r: PlacementRequest, c: readonly { member: string }[]) => ({ target: c[c.length - 1].member })]) {
      const view = cluster(...Array.from({ length: 8 }, (_, i) => member(`n${i}`).memory("16GiB", `${i % 3}GiB`)));
      fill(view, "n0", 2);
      const placer = new Placer(view, hook);
      for (let seed = 0; seed < 30; seed++) {
        const req = request(`c${seed}`).cpu(1).build();
        const dry = await placer.query(req, config(), seed);
        const pendingBefore = pendingPerMember(view);
        const real = await placer.place(req, config(), seed, `p/c${seed}`);
        expect(dry.ok && real.ok).toBe(true);
        expect(dry.ok && dry.member).toBe(real.ok && real.member);
        expect(pendingBefore.reduce((a, b) => a + b, 0)).toBe(seed); // query reserved nothing
      }
    }
  });

  it("returns the full ranking even without a hook", async () => {
    const view = cluster(member("n1"), member("n2"), member("n3").status("Offline"));
    fill(view, "n1", 1);
    const dry = await new Placer(view).query(request().build(), config(), 1);
    expect(dry.ok && dry.candidates.map((c) => c.member)).toEqual(["n2", "n1"]);
    expect(dry.ok && dry.rejected).toEqual([{ member: "n3", filter: "status", reason: "status: member is Offline" }]);
    expect(dry.ok && dry.candidates.map((c) => c.member)).toEqual(rank(view, request().build(), config(), 1).candidates.map((c) => c.member));
  });
});
