import { describe, expect, it } from "vitest";
import { cluster, decide, member, request } from "../fixtures.ts";

describe("target filter", () => {
  const view = cluster(member("n1").groups("gpu"), member("n2").groups("gpu"), member("n3"));

  it.each<[string, string[]]>([
    ["n2", ["n2"]], // a member name keeps only that member
    ["@gpu", ["n1", "n2"]], // a group keeps its members
    ["@default", ["n1", "n2", "n3"]], // every member is in default here
  ])("target %s keeps %j", (target, expected) => {
    expect(decide(view, request().target(target)).candidates.sort()).toEqual(expected);
  });

  it("names the target in the reason", () => {
    expect(decide(view, request().target("n2")).rejected).toEqual({
      n1: 'target: not the targeted member "n2"',
      n3: 'target: not the targeted member "n2"',
    });
    expect(decide(view, request().target("@gpu")).rejected).toEqual({ n3: 'target: not in the targeted group "gpu"' });
  });

  it.each(["ghost", "@nosuchgroup"])("an unknown target %s leaves no candidate", (target) => {
    // The API answers 404 before asking; the pipeline still must not place anywhere else.
    const { candidates, filters } = decide(view, request().target(target));
    expect(candidates).toEqual([]);
    expect(Object.values(filters)).toEqual(["target", "target", "target"]);
  });

  it("a targeted member still goes through the other filters", () => {
    // n1 is the target but has 8 cpu × ratio 4 = 32 and the request wants 40.
    const { candidates, rejected } = decide(view, request().target("n1").cpu(40));
    expect(candidates).toEqual([]);
    expect(rejected.n1).toBe("resources: needs 40 cpu, 32 of 32 (8 × ratio 4) free");
  });
});
