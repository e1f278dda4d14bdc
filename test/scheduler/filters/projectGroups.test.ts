import { describe, expect, it } from "vitest";
import { cluster, decide, member, request } from "../fixtures.ts";

describe("project-groups filter (restricted.cluster.groups)", () => {
  const view = cluster(member("n1").groups("web"), member("n2").groups("db"), member("n3").onlyGroups("batch"));

  it.each<[string[] | null, string[]]>([
    [null, ["n1", "n2", "n3"]], // unrestricted project
    [["web"], ["n1"]],
    [["web", "db"], ["n1", "n2"]],
    [["default"], ["n1", "n2"]], // n3 was moved out of default
    [["nosuch"], []], // a group that does not exist allows nobody
    [[], []], // an empty list allows nobody (the API passes null for "unrestricted")
  ])("allowed %j → %j", (allowed, expected) => {
    const req = request();
    if (allowed) req.allowedGroups(...allowed);
    expect(decide(view, req).candidates.sort()).toEqual(expected);
  });

  it("says which groups the project may use and where the member is", () => {
    const { rejected } = decide(view, request().project("tenant").allowedGroups("web"));
    expect(rejected.n2).toBe('project-groups: project "tenant" may only use groups web (restricted.cluster.groups); member is in default, db');
    expect(rejected.n3).toBe('project-groups: project "tenant" may only use groups web (restricted.cluster.groups); member is in batch');
  });

  it("combines with a target: a member target outside the allowed groups is rejected", () => {
    // n2 is the target but the project may only use web (the API answers 403 first; the pipeline agrees).
    const { candidates, filters } = decide(view, request().target("n2").allowedGroups("web"));
    expect(candidates).toEqual([]);
    expect(filters.n2).toBe("project-groups");
  });
});
