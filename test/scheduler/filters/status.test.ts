import { describe, expect, it } from "vitest";
import type { MemberStatus } from "../../../src/domain/types.ts";
import { cluster, decide, member, request } from "../fixtures.ts";

describe("status filter", () => {
  it.each<[MemberStatus, boolean]>([
    ["Online", true],
    ["Offline", false],
    ["Pending", false],
    ["Evacuating", false],
    ["Evacuated", false],
    ["Restoring", false],
  ])("a member that is %s is a candidate: %s", (status, candidate) => {
    // n1 has the status under test; n2 is Online, so the cluster always has a candidate.
    const view = cluster(member("n1").status(status), member("n2"));
    const { candidates, rejected } = decide(view, request());
    expect(candidates.includes("n1")).toBe(candidate);
    if (!candidate) expect(rejected.n1).toBe(`status: member is ${status}`);
  });

  it("follows setStatus without a re-upsert", () => {
    const view = cluster(member("n1"), member("n2"));
    view.setStatus("n1", "Evacuating");
    // n1 is Evacuating from that moment: no new placement lands on it.
    expect(decide(view, request())).toMatchObject({ candidates: ["n2"], rejected: { n1: "status: member is Evacuating" } });
    view.setStatus("n1", "Online");
    expect(decide(view, request()).candidates.sort()).toEqual(["n1", "n2"]);
  });

  it("an evacuated target is rejected with its status, not as 'not the target'", () => {
    // target=n1 keeps only n1, and n1 is Evacuated: the 409 must say so.
    const view = cluster(member("n1").status("Evacuated"), member("n2"));
    const { candidates, rejected } = decide(view, request().target("n1"));
    expect(candidates).toEqual([]);
    expect(rejected).toEqual({ n1: "status: member is Evacuated", n2: 'target: not the targeted member "n1"' });
  });
});
