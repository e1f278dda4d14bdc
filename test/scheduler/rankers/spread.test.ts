import { describe, expect, it } from "vitest";
import { ClusterView } from "../../../src/scheduler/clusterView.ts";
import { chooseBest } from "../../../src/scheduler/pipeline.ts";
import { cluster, config, decide, GiB, member, request } from "../fixtures.ts";

/** small: 8 cpu (×4 = 32), 16GiB, 1 instance of 8 cores / 12GiB. big: 32 cpu (128), 64GiB, 3 instances of 1 core / 1GiB. */
function smallAndBig(): ClusterView {
  const view = cluster(member("small").cpu(8).memory("16GiB"), member("big").cpu(32).memory("64GiB"));
  view.addInstance("p/s1", "small", { cpu: 8, memory: 12 * GiB, disk: 0, gpu: 0 });
  for (let i = 0; i < 3; i++) view.addInstance(`p/b${i}`, "big", { cpu: 1, memory: GiB, disk: 0, gpu: 0 });
  return view;
}

describe("spread ranker (least allocated)", () => {
  it("prefers the least allocated member even when it has more instances", () => {
    // Request 2 cores / 2GiB. After placing:
    //   small: cpu (8+2)/32 = 0.3125, memory (12+2)/16 = 0.875 → 0.59375
    //   big:   cpu (3+2)/128 = 0.039, memory (3+2)/64 = 0.078 → 0.0586
    // spread → big first; count would pick small (1 instance < 3).
    const view = smallAndBig();
    const req = request().cpu(2).memory("2GiB");
    expect(decide(view, req, config("spread")).candidates).toEqual(["big", "small"]);
    expect(decide(view, req, config("count")).candidates).toEqual(["small", "big"]);
  });

  it("places a stream of equal instances evenly over unequal members, in proportion to size", () => {
    // a: 4 cpu × 4 = 16 cores, 8GiB; b: 8 cpu → 32 cores, 16GiB. 12 instances of 1 core / 1GiB.
    // Spread keeps the fractions level: b (twice the size) gets twice as many: 8 and 4.
    const view = cluster(member("a").cpu(4).memory("8GiB"), member("b").cpu(8).memory("16GiB"));
    for (let i = 0; i < 12; i++) {
      const best = chooseBest(view, request(`i${i}`).cpu(1).memory("1GiB").build(), config("spread"), i).best!;
      view.addInstance(`p/i${i}`, best.member, { cpu: 1, memory: GiB, disk: 0, gpu: 0 });
    }
    expect([view.instanceCount("a"), view.instanceCount("b")]).toEqual([4, 8]);
  });

  it("ties break like count: fewer instances, then less requested memory", () => {
    // Equal size and equal allocation (4 cores / 4GiB each) but n1 holds it in 2 instances, n2 in 1.
    const view = cluster(member("n1"), member("n2"));
    view.addInstance("p/a", "n1", { cpu: 2, memory: 2 * GiB, disk: 0, gpu: 0 });
    view.addInstance("p/b", "n1", { cpu: 2, memory: 2 * GiB, disk: 0, gpu: 0 });
    view.addInstance("p/c", "n2", { cpu: 4, memory: 4 * GiB, disk: 0, gpu: 0 });
    expect(decide(view, request().cpu(1), config("spread")).candidates).toEqual(["n2", "n1"]);
  });
});
