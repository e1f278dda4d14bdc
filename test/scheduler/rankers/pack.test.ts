import { describe, expect, it } from "vitest";
import { chooseBest } from "../../../src/scheduler/pipeline.ts";
import { cluster, config, decide, GiB, member, request } from "../fixtures.ts";

describe("pack ranker (most allocated, bin packing)", () => {
  it("fills one member before starting the next", () => {
    // Two equal members of 8 cpu × ratio 1 = 8 cores; instances of 2 cores.
    // The first lands on the seeded-random winner; the next 3 follow it (most allocated)
    // until it is full (8 of 8); the 5th must open the other member.
    const view = cluster(member("n1"), member("n2"));
    const cfg = config("pack", 1);
    const placed: string[] = [];
    for (let i = 0; i < 5; i++) {
      const best = chooseBest(view, request(`i${i}`).cpu(2).build(), cfg, 7).best!;
      view.addInstance(`p/i${i}`, best.member, { cpu: 2, memory: 0, disk: 0, gpu: 0 });
      placed.push(best.member);
    }
    const first = placed[0];
    expect(placed.slice(0, 4)).toEqual([first, first, first, first]);
    expect(placed[4]).not.toBe(first);
  });

  it("orders by allocated fraction, fullest first", () => {
    // Each member offers 8 cpu × 4 = 32 cores and 16GiB. After placing 1 core / 1GiB:
    //   n1 empty:              (1/32 + 1/16) / 2 = 0.046875
    //   n2 8 cores, 8GiB:      (9/32 + 9/16) / 2 = 0.421875
    //   n3 16 cores, 12GiB:   (17/32 + 13/16) / 2 = 0.671875
    // pack → n3, n2, n1; spread → the reverse.
    const view = cluster(member("n1"), member("n2"), member("n3"));
    view.addInstance("p/a", "n2", { cpu: 8, memory: 8 * GiB, disk: 0, gpu: 0 });
    view.addInstance("p/b", "n3", { cpu: 16, memory: 12 * GiB, disk: 0, gpu: 0 });
    const req = request().cpu(1).memory("1GiB");
    expect(decide(view, req, config("pack")).candidates).toEqual(["n3", "n2", "n1"]);
    expect(decide(view, req, config("spread")).candidates).toEqual(["n1", "n2", "n3"]);
  });

  it("never packs past capacity: a full member is filtered out, not ranked", () => {
    // n1 is full (32 of 32 cores); pack must pick n2 although n1 is the most allocated.
    const view = cluster(member("n1"), member("n2"));
    view.addInstance("p/a", "n1", { cpu: 32, memory: 0, disk: 0, gpu: 0 });
    const { candidates, filters } = decide(view, request().cpu(1), config("pack"));
    expect(candidates).toEqual(["n2"]);
    expect(filters.n1).toBe("resources");
  });
});
