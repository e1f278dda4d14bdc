import { describe, expect, it } from "vitest";
import { cluster, decide, fill, GiB, member, request } from "./fixtures.ts";

const none = { cpu: 0, memory: 0, disk: 0, gpu: 0 };

describe("ClusterView accounting", () => {
  it("upserting a member (a heartbeat) keeps what its instances request", () => {
    const view = cluster(member("n1"));
    fill(view, "n1", 3, { cpu: 1, memory: GiB, disk: GiB, pool: "default" });
    view.upsertMember(member("n1").cpu(16).memory("64GiB", "10GiB").build());
    expect(view.usage("n1")).toEqual({ instanceCount: 3, pending: 0, cpu: 3, memory: 3 * GiB, gpu: 0, disk: { default: 3 * GiB } });
  });

  it("counts instances recorded before their member appears, and after it is removed and re-added", () => {
    const view = cluster();
    view.addInstance("p/a", "late", { cpu: 2, memory: 0, disk: 0, gpu: 0 });
    view.upsertMember(member("late").build());
    expect(view.usage("late")).toMatchObject({ instanceCount: 1, cpu: 2 });
    view.removeMember("late");
    expect(view.usage("late")).toBeUndefined();
    view.upsertMember(member("late").build());
    expect(view.usage("late")).toMatchObject({ instanceCount: 1, cpu: 2 });
  });

  it("removing a member leaves every other member's figures intact", () => {
    // Removal moves the last slot into the hole: n4's figures must move with it.
    const view = cluster(member("n1"), member("n2").status("Offline"), member("n3"), member("n4").arch("aarch64"));
    fill(view, "n1", 1);
    fill(view, "n3", 3);
    fill(view, "n4", 4);
    view.removeMember("n1");
    expect(view.memberNames().sort()).toEqual(["n2", "n3", "n4"]);
    expect([view.instanceCount("n2"), view.instanceCount("n3"), view.instanceCount("n4")]).toEqual([0, 3, 4]);
    expect(view.status("n2")).toBe("Offline");
    expect(decide(view, request().arch("aarch64")).candidates).toEqual(["n4"]);
  });

  it("re-adding an instance under the same key replaces it instead of counting it twice", () => {
    const view = cluster(member("n1"), member("n2"));
    view.addInstance("p/a", "n1", { ...none, cpu: 2 });
    view.addInstance("p/a", "n2", { ...none, cpu: 3 });
    expect([view.instanceCount("n1"), view.instanceCount("n2"), view.usage("n2")?.cpu]).toEqual([0, 1, 3]);
  });

  it("moves an instance with its resources", () => {
    const view = cluster(member("n1"), member("n2"));
    view.addInstance("p/a", "n1", { cpu: 2, memory: GiB, disk: GiB, gpu: 0, pool: "default" });
    expect(view.moveInstance("p/a", "n2")).toBe(true);
    expect(view.usage("n1")).toMatchObject({ instanceCount: 0, cpu: 0, memory: 0, disk: {} });
    expect(view.usage("n2")).toMatchObject({ instanceCount: 1, cpu: 2, memory: GiB, disk: { default: GiB } });
    expect(view.instanceLocation("p/a")).toBe("n2");
    expect(view.moveInstance("p/ghost", "n2")).toBe(false);
  });

  it("a reservation counts at once; commit turns it into the instance, release drops it", () => {
    const view = cluster(member("n1"));
    view.reserve("p/a", "n1", { ...none, cpu: 4 });
    expect(view.usage("n1")).toMatchObject({ instanceCount: 1, pending: 1, cpu: 4 });
    expect(view.pendingCount("n1")).toBe(1);
    expect(view.commit("p/a")).toBe(true);
    expect(view.usage("n1")).toMatchObject({ instanceCount: 1, pending: 0, cpu: 4 });
    expect(view.instanceLocation("p/a")).toBe("n1");
    view.reserve("p/b", "n1", { ...none, cpu: 1 });
    expect(view.release("p/b")).toBe(true);
    expect(view.usage("n1")).toMatchObject({ instanceCount: 1, pending: 0, cpu: 4 });
    expect(view.release("p/b")).toBe(false);
  });

  it("a move holds resources on both members until commit frees the old location", () => {
    const view = cluster(member("src"), member("dst"));
    view.addInstance("p/a", "src", { ...none, memory: 4 * GiB });
    view.reserve("p/a", "dst", { ...none, memory: 4 * GiB });
    expect([view.usage("src")?.memory, view.usage("dst")?.memory]).toEqual([4 * GiB, 4 * GiB]);
    view.commit("p/a");
    expect([view.usage("src")?.memory, view.usage("dst")?.memory]).toEqual([0, 4 * GiB]);
    expect(view.instanceLocation("p/a")).toBe("dst");
  });

  it("refuses a second reservation under a key already in flight", () => {
    const view = cluster(member("n1"));
    view.reserve("p/a", "n1", none);
    expect(() => view.reserve("p/a", "n1", none)).toThrow(/already in flight/);
  });

  it("follows group and pool changes on upsert", () => {
    const view = cluster(member("n1").groups("gpu").addPool("fast", "10GiB"));
    expect(decide(view, request().target("@gpu").disk("1GiB", "fast")).candidates).toEqual(["n1"]);
    view.upsertMember(member("n1").build()); // left gpu, no longer reports fast
    expect(decide(view, request().target("@gpu")).filters.n1).toBe("target");
    expect(decide(view, request().disk("1GiB", "fast")).filters.n1).toBe("resources");
  });

  it("grows past its initial capacity without losing anything", () => {
    const view = cluster();
    for (let i = 0; i < 300; i++) {
      view.upsertMember(member(`n${i}`).groups(i % 2 ? "odd" : "even").build());
      view.addInstance(`p/${i}`, `n${i}`, { ...none, disk: i, pool: "default" });
    }
    expect(view.size).toBe(300);
    expect(view.usage("n299")).toMatchObject({ instanceCount: 1, disk: { default: 299 } });
    expect(decide(view, request().target("@odd")).candidates).toHaveLength(150);
  });
});
