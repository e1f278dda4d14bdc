import { describe, expect, it } from "vitest";
import type { Strategy } from "../../src/domain/serverConfig.ts";
import { checkMember, chooseBest, rank } from "../../src/scheduler/pipeline.ts";
import { hashString, seedFor } from "../../src/scheduler/seed.ts";
import { cluster, config, fill, GiB, member, request } from "./fixtures.ts";

/** A small random cluster: mixed sizes, statuses, modes, groups, architectures and load. */
function randomCluster(seed: number) {
  let state = seed;
  const rnd = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const view = cluster();
  for (let i = 0; i < 40; i++) {
    view.upsertMember(member(`n${i}`).cpu(pick([2, 4, 8])).memory(pick(["8GiB", "16GiB"]), pick([0, GiB, 2 * GiB]))
      .groups(pick(["web", "db"])).arch(pick(["x86_64", "x86_64", "aarch64"])).status(rnd() < 0.1 ? "Offline" : "Online")
      .mode(rnd() < 0.1 ? "manual" : "all").gpus(pick([0, 0, 1])).build());
    fill(view, `n${i}`, Math.floor(rnd() * 4), { cpu: pick([1, 2]), memory: pick([GiB, 2 * GiB]) });
  }
  return view;
}

describe("pipeline", () => {
  it.each<Strategy>(["count", "spread", "pack"])("chooseBest finds rank's first candidate (%s)", (strategy) => {
    const requests = [
      request().build(),
      request().cpu(2).memory("2GiB").arch("i686").build(),
      request().cpu(1).target("@db").build(),
      request().gpu(1).allowedGroups("web").build(),
      request().memory("4GiB").reason("evacuation").exclude("n3", "n7").build(),
    ];
    for (let clusterSeed = 1; clusterSeed <= 10; clusterSeed++) {
      const view = randomCluster(clusterSeed);
      for (const req of requests) {
        for (let seed = 0; seed < 5; seed++) {
          const ranked = rank(view, req, config(strategy), seed);
          const best = chooseBest(view, req, config(strategy), seed);
          expect(best.best?.member).toBe(ranked.best?.member);
          expect(best.candidateCount).toBe(ranked.candidates.length);
          expect(best.rejectedCount).toBe(ranked.rejected.length);
          expect(ranked.candidates.length + ranked.rejected.length).toBe(40);
        }
      }
    }
  });

  it("the same view, request and seed give the same answer; the default seed is the instance's", () => {
    const a = randomCluster(3);
    const b = randomCluster(3);
    const req = request("web1").cpu(1).build();
    expect(rank(a, req, config()).candidates).toEqual(rank(b, req, config()).candidates);
    expect(rank(a, req, config()).candidates).toEqual(rank(a, req, config(), seedFor("default", "web1")).candidates);
  });

  it("seedFor is a stable hash (a changed hash would change replayed decisions)", () => {
    expect(hashString("a")).toBe(0xe40c292c); // FNV-1a reference value
    expect(seedFor("default", "web1")).toBe(4234647380);
    expect(seedFor("default", "web2")).not.toBe(seedFor("default", "web1"));
  });

  it("formats reasons only when read, once, from the state at decision time", () => {
    const view = cluster(member("n1").status("Offline"), member("n2").cpu(1), member("n3"));
    fill(view, "n2", 2, { cpu: 1 }); // 2 of 4 cores requested
    const result = rank(view, request().cpu(3).build(), config());
    expect(result.rejectedCount).toBe(2);
    expect(result.rejectionCounts()).toEqual({ status: 1, resources: 1 });
    // The cluster changes after the decision...
    view.setStatus("n1", "Online");
    view.removeInstance("n2/i0");
    view.upsertMember(member("n2").cpu(64).build());
    view.removeMember("n3");
    // ...and the reasons still describe what the decision saw.
    expect(result.rejected).toEqual([
      { member: "n1", filter: "status", reason: "status: member is Offline" },
      {
        member: "n2", filter: "resources", reason: "resources: needs 3 cpu, 2 of 4 (1 × ratio 4) free",
        insufficient: [{ resource: "cpu", requested: 3, allocated: 2, capacity: 4 }],
      },
    ]);
    expect(result.rejected).toBe(result.rejected); // formatted once
    expect(result.rejectedByMember()).toEqual({ n1: "status: member is Offline", n2: "resources: needs 3 cpu, 2 of 4 (1 × ratio 4) free" });
  });

  it("keeps the decision's member info when the member's groups change afterwards", () => {
    const view = cluster(member("n1").groups("db"), member("n2").groups("web"));
    const result = rank(view, request().project("p").allowedGroups("web").build(), config());
    view.upsertMember(member("n1").groups("web").build());
    expect(result.rejected[0].reason).toBe('project-groups: project "p" may only use groups web (restricted.cluster.groups); member is in default, db');
  });

  it("summarises an unschedulable request for the 409", () => {
    const view = cluster(member("n1").status("Evacuated"), member("n2").arch("aarch64"), member("n3").arch("aarch64"));
    const result = chooseBest(view, request("web1").arch("x86_64").build(), config());
    expect(result.best).toBeUndefined();
    expect(result.summary()).toBe('No cluster member can take instance "web1" in project "default": 3 rejected (status: 1, architecture: 2)');
    expect(chooseBest(cluster(), request("web1").build(), config()).summary()).toMatch(/the cluster has no members/);
  });

  it("checkMember re-runs the filters on one member as it is now", () => {
    const view = cluster(member("n1").cpu(1), member("n2"));
    const req = request().cpu(2).build();
    expect(checkMember(view, req, config(), "n1")).toBeNull(); // 0 + 2 ≤ 4
    fill(view, "n1", 1, { cpu: 3 });
    expect(checkMember(view, req, config(), "n1")).toEqual({
      member: "n1", filter: "resources", reason: "resources: needs 2 cpu, 1 of 4 (1 × ratio 4) free",
      insufficient: [{ resource: "cpu", requested: 2, allocated: 3, capacity: 4 }],
    });
    view.setStatus("n2", "Offline");
    expect(checkMember(view, req, config(), "n2")?.reason).toBe("status: member is Offline");
    expect(checkMember(view, req, config(), "ghost")?.reason).toBe("status: member is no longer in the cluster");
  });
});
