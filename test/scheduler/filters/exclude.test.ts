import { describe, expect, it } from "vitest";
import { cluster, decide, member, request } from "../fixtures.ts";

describe("exclude filter", () => {
  it("never places an evacuated instance back on its source", () => {
    // n1 is the source of the evacuation; it is still Online here (e.g. a dry run before the
    // state flips), so only the exclude filter keeps it out. n1 is also the emptiest member.
    const view = cluster(member("n1"), member("n2"), member("n3"));
    view.addInstance("default/a", "n2", { cpu: 0, memory: 0, disk: 0, gpu: 0 });
    view.addInstance("default/b", "n3", { cpu: 0, memory: 0, disk: 0, gpu: 0 });
    const { candidates, rejected } = decide(view, request().reason("evacuation").exclude("n1"));
    expect(candidates.sort()).toEqual(["n2", "n3"]);
    expect(rejected).toEqual({ n1: "exclude: member is the one being evacuated" });
  });

  it("excludes several members and ignores names not in the cluster", () => {
    const view = cluster(member("n1"), member("n2"), member("n3"));
    const { candidates, rejected } = decide(view, request().reason("relocation").exclude("n1", "ghost", "n3"));
    expect(candidates).toEqual(["n2"]);
    expect(rejected).toEqual({
      n1: "exclude: member is excluded by this placement",
      n3: "exclude: member is excluded by this placement",
    });
  });
});
