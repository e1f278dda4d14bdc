import { describe, expect, it } from "vitest";
import { rank } from "../../../src/scheduler/pipeline.ts";
import { cluster, config, decide, fill, member, request } from "../fixtures.ts";

describe("count ranker (LXD default)", () => {
  it("ranks by fewest instances", () => {
    // n1: 3 instances, n2: 1, n3: 2 → n2, n3, n1.
    const view = cluster(member("n1"), member("n2"), member("n3"));
    fill(view, "n1", 3);
    fill(view, "n2", 1);
    fill(view, "n3", 2);
    expect(decide(view, request()).candidates).toEqual(["n2", "n3", "n1"]);
  });

  it("counts placements still in flight", () => {
    // n1 has 1 instance; n2 has none but 2 reservations → n1 (1) before n2 (2).
    const view = cluster(member("n1"), member("n2"));
    fill(view, "n1", 1);
    view.reserve("p/a", "n2", { cpu: 0, memory: 0, disk: 0, gpu: 0 });
    view.reserve("p/b", "n2", { cpu: 0, memory: 0, disk: 0, gpu: 0 });
    expect(decide(view, request()).candidates).toEqual(["n1", "n2"]);
  });

  it("breaks ties by least requested (allocated) memory, not by what members report free", () => {
    // All have 1 instance. Requested: n1 1GiB, n2 4GiB, n3 2GiB → n1, n3, n2, although reported
    // free memory (n1 16−12 = 4GiB, n2 32−4 = 28GiB, n3 16−2 = 14GiB) would say n2, n3, n1.
    const view = cluster(member("n1").memory("16GiB", "12GiB"), member("n2").memory("32GiB", "4GiB"), member("n3").memory("16GiB", "2GiB"));
    fill(view, "n1", 1, { memory: 1024 ** 3 });
    fill(view, "n2", 1, { memory: 4 * 1024 ** 3 });
    fill(view, "n3", 1, { memory: 2 * 1024 ** 3 });
    expect(decide(view, request()).candidates).toEqual(["n1", "n3", "n2"]);
  });

  it("then by a seeded random: every member wins for some seed, and a seed always gives the same order", () => {
    const names = ["n1", "n2", "n3", "n4"];
    const view = cluster(...names.map((n) => member(n)));
    const winners = new Set<string>();
    for (let seed = 0; seed < 64; seed++) {
      const first = decide(view, request(), config(), seed).candidates;
      expect(decide(view, request(), config(), seed).candidates).toEqual(first);
      winners.add(first[0]);
    }
    expect([...winners].sort()).toEqual(names);
  });

  it("the random tie-break does not depend on the order members were added", () => {
    const forward = cluster(member("a"), member("b"), member("c"), member("d"));
    const backward = cluster(member("d"), member("c"), member("b"), member("a"));
    for (let seed = 0; seed < 20; seed++) {
      expect(decide(backward, request(), config(), seed).candidates).toEqual(decide(forward, request(), config(), seed).candidates);
    }
  });

  it("each candidate carries its score inputs", () => {
    // n1: 8 cpu × 4 = 32 cores, 16GiB; 2 instances of 2 cores / 2GiB; request 4 cores / 4GiB.
    const view = cluster(member("n1").memory("16GiB", "6GiB"));
    fill(view, "n1", 2, { cpu: 2, memory: 2 * 1024 ** 3 });
    view.reserve("p/x", "n1", { cpu: 0, memory: 0, disk: 0, gpu: 0 });
    const [c] = rank(view, request().cpu(4).memory("4GiB").disk("10GiB").build(), config()).candidates;
    expect(c).toMatchObject({
      member: "n1", rank: 1, instanceCount: 3, pending: 1,
      free: { cpu: 28, memory: 12 * 1024 ** 3, disk: 100 * 1024 ** 3, gpu: 0 },
      reportedFreeMemory: 10 * 1024 ** 3,
      requestedMemory: 4 * 1024 ** 3, // the two instances of 2GiB
      // after placing: cpu (4 + 4) / 32 = 0.25, memory (4 + 4) / 16 = 0.5 → mean 0.375
      allocated: 0.375,
    });
    expect(typeof c.tieBreak).toBe("number");
  });
});
