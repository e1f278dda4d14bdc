import { describe, expect, it } from "vitest";
import type { SchedulerMode } from "../../../src/domain/types.ts";
import { cluster, decide, member, request } from "../fixtures.ts";

// LXD semantics of scheduler.instance (seeds/lxd-doc-clusters-explanation.txt):
//   all:    untargeted, targeted by name, or via any of its groups
//   manual: only when targeted by name
//   group:  targeted by name, or via a group it belongs to
describe("scheduler-instance filter", () => {
  it.each<[SchedulerMode, string | undefined, boolean]>([
    ["all", undefined, true],
    ["all", "n1", true],
    ["all", "@gpu", true],
    ["manual", undefined, false],
    ["manual", "n1", true],
    ["manual", "@gpu", false], // a group target is not a target by name
    ["group", undefined, false],
    ["group", "n1", true],
    ["group", "@gpu", true], // n1 is in gpu
  ])("a %s member, target %s → candidate: %s", (mode, target, candidate) => {
    const view = cluster(member("n1").mode(mode).groups("gpu"));
    const req = request();
    if (target) req.target(target);
    const { candidates, filters } = decide(view, req);
    expect(candidates).toEqual(candidate ? ["n1"] : []);
    if (!candidate) expect(filters.n1).toBe("scheduler-instance");
  });

  it("explains each mode", () => {
    // Untargeted: both n1 (manual) and n2 (group, in @gpu) are dropped; n3 (all) takes it.
    const view = cluster(member("n1").mode("manual"), member("n2").mode("group").groups("gpu"), member("n3"));
    const { candidates, rejected } = decide(view, request());
    expect(candidates).toEqual(["n3"]);
    expect(rejected.n1).toBe("scheduler-instance: member has scheduler.instance=manual and only takes instances targeted at it by name");
    expect(rejected.n2).toBe(
      "scheduler-instance: member has scheduler.instance=group and only takes instances targeted at it or at one of its groups (@default, @gpu)",
    );
  });

  it("a group target takes a group-mode member of that group but not a group-mode member outside it", () => {
    // n1 (group mode, in web) and n2 (group mode, in gpu); target @gpu keeps n2 only; n1 fails
    // the target filter first (it is not in gpu), so the target reason is the one shown.
    const view = cluster(member("n1").mode("group").groups("web"), member("n2").mode("group").groups("gpu"));
    const { candidates, filters } = decide(view, request().target("@gpu"));
    expect(candidates).toEqual(["n2"]);
    expect(filters.n1).toBe("target");
  });
});
