/**
 * The plugin path: a filter is an object in a list. These tests build chains with filters that
 * are not in FILTERS and check their reasons come out of the same pipeline, formatting and counts.
 */
import { describe, expect, it } from "vitest";
import { FILTERS, type Filter, type RejectionFacts, type Verdicts } from "../../../src/scheduler/filters/index.ts";
import type { PreparedRequest } from "../../../src/scheduler/prepared.ts";
import { checkMember, chooseBest, rank } from "../../../src/scheduler/pipeline.ts";
import { cluster, config, fill, member, request } from "../fixtures.ts";

/** The hypothetical filter of docs/scheduler.md ("Adding a filter"): no new instance on a member
 *  whose 1-minute load is above 2 per cpu. It records the load it saw: heartbeats change it. */
const MAX_LOAD_PER_CPU = 2;
const loadFilter: Filter = {
  name: "load",
  apply(p: PreparedRequest, list: Int32Array, count: number, verdicts: Verdicts, id: number): number {
    const { load1m, cpuTotalMilli } = p.columns;
    const by = verdicts.by;
    let numbers = verdicts.numbers;
    let used = verdicts.used;
    let kept = 0;
    for (let k = 0; k < count; k++) {
      const slot = list[k];
      const limit = (MAX_LOAD_PER_CPU * cpuTotalMilli[slot]) / 1000;
      if (load1m[slot] <= limit) {
        list[kept++] = slot;
        continue;
      }
      by[slot] = id;
      if (used + 2 > numbers.length) numbers = verdicts.room(used + 2);
      numbers[used++] = load1m[slot];
      numbers[used++] = limit;
    }
    verdicts.used = used;
    return kept;
  },
  describe: (f: RejectionFacts) => `load ${f.numbers[0]} is above ${f.numbers[1]} (${MAX_LOAD_PER_CPU} per cpu)`,
  recordLength: () => 2,
};

/** FILTERS with the load filter just before resources (both record numbers). */
const WITH_LOAD: readonly Filter[] = [...FILTERS.slice(0, -1), loadFilter, FILTERS[FILTERS.length - 1]];

const loaded = (name: string, cpus: number, load: number) => ({ ...member(name).cpu(cpus).build(), load1m: load });

describe("a filter added to the chain", () => {
  it("drops members with its own reason, counted under its name", () => {
    // n1: 8 cpus, load 20 > 16 → dropped by load. n2: 4 cpus, load 4 ≤ 8 → candidate.
    // n3: Offline → status, never seen by load. n4: load 1, but 30 of 32 cores requested → resources.
    const view = cluster(loaded("n1", 8, 20), loaded("n2", 4, 4), member("n3").status("Offline"), loaded("n4", 8, 1));
    fill(view, "n4", 15, { cpu: 2 });
    const req = request().cpu(4).build();
    const result = rank(view, req, config(), 1, WITH_LOAD);
    expect(result.candidates.map((c) => c.member)).toEqual(["n2"]);
    expect(result.rejectedByMember()).toEqual({
      n1: "load: load 20 is above 16 (2 per cpu)",
      n3: "status: member is Offline",
      n4: "resources: needs 4 cpu, 2 of 32 (8 × ratio 4) free",
    });
    expect(result.rejectionCounts()).toEqual({ load: 1, status: 1, resources: 1 });
    expect(chooseBest(view, req, config(), 1, WITH_LOAD).summary()).toBe(
      'No cluster member can take instance "c1" in project "default": 3 rejected (load: 1, status: 1, resources: 1)',
    );
    // The built-in chain knows nothing of it: n1 is a candidate there.
    expect(rank(view, req, config(), 1).candidates.map((c) => c.member).sort()).toEqual(["n1", "n2"]);
  });

  it("keeps each filter's recorded numbers with the right member, as they were at decision time", () => {
    // Alternating members: odd ones overloaded (load filter records 2 numbers each), even ones
    // full (resources records 2 numbers each); the records of both filters interleave by slot.
    const members = Array.from({ length: 8 }, (_, i) => loaded(`m${i}`, 1, i % 2 === 1 ? 10 + i : 0));
    const view = cluster(...members);
    for (let i = 0; i < 8; i += 2) fill(view, `m${i}`, 1, { cpu: 4 - i / 2 });
    // m0: 4 of 4 cores requested, m2: 3, m4: 2, m6: 1; the request asks 4 cores.
    const result = rank(view, request().cpu(4).build(), config(), 1, WITH_LOAD);
    view.upsertMember(loaded("m1", 1, 0)); // after the decision: its reason must not change
    expect(result.rejectedByMember()).toEqual({
      m0: "resources: needs 4 cpu, 0 of 4 (1 × ratio 4) free",
      m1: "load: load 11 is above 2 (2 per cpu)",
      m2: "resources: needs 4 cpu, 1 of 4 (1 × ratio 4) free",
      m3: "load: load 13 is above 2 (2 per cpu)",
      m4: "resources: needs 4 cpu, 2 of 4 (1 × ratio 4) free",
      m5: "load: load 15 is above 2 (2 per cpu)",
      m6: "resources: needs 4 cpu, 3 of 4 (1 × ratio 4) free",
      m7: "load: load 17 is above 2 (2 per cpu)",
    });
  });

  it("re-checks one member with the same chain", () => {
    const view = cluster(loaded("n1", 8, 20));
    expect(checkMember(view, request().build(), config(), "n1")).toBeNull();
    expect(checkMember(view, request().build(), config(), "n1", WITH_LOAD)).toEqual({
      member: "n1", filter: "load", reason: "load: load 20 is above 16 (2 per cpu)",
    });
  });

  it("has no set size: the 300th filter of a chain names its reason", () => {
    // 299 filters that keep everyone, then one that drops n2: more ids than a byte holds.
    const keepAll = (i: number): Filter => ({ name: `keep-${i}`, apply: (_p, _list, count) => count, describe: () => "" });
    const dropN2: Filter = {
      name: "not-n2",
      apply(p, list, count, verdicts, id) {
        let kept = 0;
        for (let k = 0; k < count; k++) {
          if (p.columns.names[list[k]] === "n2") verdicts.by[list[k]] = id;
          else list[kept++] = list[k];
        }
        return kept;
      },
      describe: (f) => `${f.info.name} is never chosen`,
    };
    const chain = [...Array.from({ length: 299 }, (_, i) => keepAll(i)), dropN2];
    const result = rank(cluster(member("n1"), member("n2")), request().build(), config(), 1, chain);
    expect(result.candidates.map((c) => c.member)).toEqual(["n1"]);
    expect(result.rejected).toEqual([{ member: "n2", filter: "not-n2", reason: "not-n2: n2 is never chosen" }]);
  });
});
