import { describe, expect, it } from "vitest";
import { rank } from "../../../src/scheduler/pipeline.ts";
import { cluster, config, decide, fill, GiB, member, request } from "../fixtures.ts";

describe("resources filter", () => {
  it.each<[string, number, boolean]>([
    // n1: 8 cpu × ratio 4 = 32 cores offered; 30 already requested (15 × 2) → 2 free.
    ["2 cores fit exactly", 2, true],
    ["3 cores do not", 3, false],
    ["0 cores always fit", 0, true],
  ])("cpu: %s", (_label, cores, fits) => {
    const view = cluster(member("n1").cpu(8));
    fill(view, "n1", 15, { cpu: 2 });
    expect(decide(view, request().cpu(cores)).candidates).toEqual(fits ? ["n1"] : []);
  });

  it("cpu reason: needs, free, offered, total and ratio", () => {
    const view = cluster(member("n1").cpu(8));
    fill(view, "n1", 15, { cpu: 2 }); // 30 of 32 requested
    expect(decide(view, request().cpu(4)).rejected.n1).toBe("resources: needs 4 cpu, 2 of 32 (8 × ratio 4) free");
  });

  it("memory uses memory_allocation_ratio and what instances request, not what the member reports used", () => {
    // 16GiB × 1.5 = 24GiB offered; 20GiB requested → 4GiB free. Reported used (15GiB) plays no part.
    const view = cluster(member("n1").memory("16GiB", "15GiB"));
    fill(view, "n1", 5, { memory: 4 * GiB });
    const cfg = config("count", 4, 1.5);
    expect(decide(view, request().memory("4GiB"), cfg).candidates).toEqual(["n1"]);
    expect(decide(view, request().memory("5GiB"), cfg).rejected.n1).toBe(
      "resources: needs 5GiB memory, 4GiB of 24GiB (16GiB × ratio 1.5) free",
    );
  });

  it("root disk is checked on the instance's pool, which the member must have", () => {
    // n1 has default (100GiB, 90GiB requested); n2 has fast only; n3 has both, fast 50GiB empty.
    const view = cluster(member("n1"), member("n2").pool("fast", "50GiB"), member("n3").addPool("fast", "50GiB"));
    fill(view, "n1", 9, { disk: 10 * GiB, pool: "default" });
    const onDefault = decide(view, request().disk("20GiB", "default"));
    expect(onDefault.candidates).toEqual(["n3"]);
    expect(onDefault.rejected).toEqual({
      n1: 'resources: needs 20GiB root disk on pool "default", 10GiB of 100GiB free',
      n2: 'resources: needs 20GiB root disk on pool "default", which the member does not have',
    });
    // 10GiB fits n1 exactly (90 + 10 = 100).
    expect(decide(view, request().disk("10GiB", "default")).candidates.sort()).toEqual(["n1", "n3"]);
    expect(decide(view, request().disk("20GiB", "fast")).candidates.sort()).toEqual(["n2", "n3"]);
  });

  it("a pool no member reports rejects everyone", () => {
    const view = cluster(member("n1"));
    expect(decide(view, request().disk("1GiB", "ghost")).rejected.n1).toBe(
      'resources: needs 1GiB root disk on pool "ghost", which the member does not have',
    );
  });

  it("gpu counts cards", () => {
    // n1 has 2 cards with 1 requested; n2 has none.
    const view = cluster(member("n1").gpus(2), member("n2"));
    fill(view, "n1", 1, { gpu: 1 });
    const { candidates, rejected } = decide(view, request().gpu(1));
    expect(candidates).toEqual(["n1"]);
    expect(rejected.n2).toBe("resources: needs 1 gpu, 0 of 0 free");
    expect(decide(view, request().gpu(2)).rejected.n1).toBe("resources: needs 2 gpu, 1 of 2 free");
  });

  it("zero requests fit an overcommitted member", () => {
    // Lowering the ratio left n1 overcommitted (20 cores requested, 8 × 1 offered).
    const view = cluster(member("n1").cpu(8));
    fill(view, "n1", 10, { cpu: 2 });
    expect(decide(view, request(), config("count", 1)).candidates).toEqual(["n1"]);
    expect(decide(view, request().cpu(0.5), config("count", 1)).rejected.n1).toBe(
      "resources: needs 0.5 cpu, 0 of 8 (8 × ratio 1) free",
    );
  });

  it("fractional cores add up exactly (no floating-point drift)", () => {
    // 10 × 0.1 cores on 1 cpu × ratio 1 = 1.0 exactly: full, but one more 0.1 must not fit
    // and removing them all must leave exactly 0 requested.
    const view = cluster(member("n1").cpu(1));
    fill(view, "n1", 10, { cpu: 0.1 });
    expect(decide(view, request().cpu(0.1), config("count", 1)).candidates).toEqual([]);
    for (let i = 0; i < 10; i++) view.removeInstance(`n1/i${i}`);
    expect(view.usage("n1")?.cpu).toBe(0);
    expect(decide(view, request().cpu(1), config("count", 1)).candidates).toEqual(["n1"]);
  });

  it("reports every resource short, in the order cpu, memory, disk, gpu", () => {
    // n1 offers 1 cpu × ratio 4 = 4 cores, 1GiB × ratio 1 memory, a 1GiB pool, no gpu; nothing requested yet.
    const view = cluster(member("n1").cpu(1).memory("1GiB").pool("default", "1GiB"));
    const result = rank(view, request().cpu(8).memory("8GiB").disk("8GiB").gpu(1).build(), config());
    expect(result.rejected).toEqual([{
      member: "n1",
      filter: "resources",
      reason: "resources: needs 8 cpu, 4 of 4 (1 × ratio 4) free; needs 8GiB memory, 1GiB of 1GiB (1GiB × ratio 1) free; " +
        'needs 8GiB root disk on pool "default", 1GiB of 1GiB free; needs 1 gpu, 0 of 0 free',
      insufficient: [
        { resource: "cpu", requested: 8, allocated: 0, capacity: 4 },
        { resource: "memory", requested: 8 * GiB, allocated: 0, capacity: 1 * GiB },
        { resource: "disk", requested: 8 * GiB, allocated: 0, capacity: 1 * GiB, pool: "default" },
        { resource: "gpu", requested: 1, allocated: 0, capacity: 0 },
      ],
    }]);
  });

  it("names only the resources that are short, with what is already allocated", () => {
    // n1: 8 cpu × 4 = 32 cores, 3 × 2 = 6 requested → 2 cores fit. 16GiB × 1.5 = 24GiB, 3 × 6GiB =
    // 18GiB requested → 8GiB does not fit (6GiB free). 2 gpus, none requested → 1 fits. It has no
    // pool "fast": the disk is short, with capacity 0.
    const view = cluster(member("n1").cpu(8).memory("16GiB").gpus(2));
    fill(view, "n1", 3, { cpu: 2, memory: 6 * GiB });
    const result = rank(view, request().cpu(2).memory("8GiB").disk("1GiB", "fast").gpu(1).build(), config("count", 4, 1.5));
    expect(result.rejected[0].reason).toBe(
      "resources: needs 8GiB memory, 6GiB of 24GiB (16GiB × ratio 1.5) free; " +
      'needs 1GiB root disk on pool "fast", which the member does not have',
    );
    expect(result.rejected[0].insufficient).toEqual([
      { resource: "memory", requested: 8 * GiB, allocated: 18 * GiB, capacity: 24 * GiB },
      { resource: "disk", requested: 1 * GiB, allocated: 0, capacity: 0, pool: "fast" },
    ]);
  });

  it("keeps the numbers of many members short of everything (the record buffer grows)", () => {
    // 40 members, m<i> with i+1 cpus (× ratio 4), i+1 GiB, an (i+1) GiB pool and no gpu: a request
    // for 1000 cores, 1000GiB, a 1000GiB disk and a gpu is short of all four on each, 8 numbers
    // per member, 320 in all: more than the buffer starts with.
    const view = cluster(...Array.from({ length: 40 }, (_, i) =>
      member(`m${i}`).cpu(i + 1).memory(`${i + 1}GiB`).pool("default", `${i + 1}GiB`)));
    const result = rank(view, request().cpu(1000).memory("1000GiB").disk("1000GiB").gpu(1).build(), config());
    expect(result.rejected).toHaveLength(40);
    result.rejected.forEach((r, i) => {
      expect(r.member).toBe(`m${i}`);
      expect(r.insufficient).toEqual([
        { resource: "cpu", requested: 1000, allocated: 0, capacity: 4 * (i + 1) },
        { resource: "memory", requested: 1000 * GiB, allocated: 0, capacity: (i + 1) * GiB },
        { resource: "disk", requested: 1000 * GiB, allocated: 0, capacity: (i + 1) * GiB, pool: "default" },
        { resource: "gpu", requested: 1, allocated: 0, capacity: 0 },
      ]);
    });
  });

  it("keeps each member's numbers apart and as they were at decision time", () => {
    // n1 is short of cpu only (4 of 4 cores requested), n2 of memory only (16 of 16GiB), n3 fits.
    const view = cluster(member("n1").cpu(1), member("n2"), member("n3"));
    fill(view, "n1", 4, { cpu: 1 });
    fill(view, "n2", 2, { memory: 8 * GiB });
    const result = rank(view, request().cpu(1).memory("1GiB").build(), config());
    view.removeInstance("n1/i0"); // after the decision: the reasons must not change
    view.removeInstance("n2/i0");
    expect(result.candidates.map((c) => c.member)).toEqual(["n3"]);
    expect(result.rejected.map((r) => [r.member, r.reason, r.insufficient])).toEqual([
      ["n1", "resources: needs 1 cpu, 0 of 4 (1 × ratio 4) free", [{ resource: "cpu", requested: 1, allocated: 4, capacity: 4 }]],
      ["n2", "resources: needs 1GiB memory, 0B of 16GiB (16GiB × ratio 1) free",
        [{ resource: "memory", requested: 1 * GiB, allocated: 16 * GiB, capacity: 16 * GiB }]],
    ]);
  });
});
