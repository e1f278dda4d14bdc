/** The replica the helpers read: deltas, queries, and cache invalidation by version. */
import { describe, expect, it } from "vitest";
import { Replica } from "../../src/sandbox/replica.ts";
import type { Instance } from "../../src/domain/types.ts";
import { instance, member, memberState, project, snapshot } from "./fixtures.ts";

const base = () => new Replica(snapshot({
  members: [member("b").groups("gpu").build(), member("a").build()],
  member_states: { a: memberState(1), b: null },
  instances: [instance("i1", "a"), instance("i2", "b", { project: "p" })],
  pending: [{ id: "x", project: "default", location: "b", name: "i3" }],
  projects: [project("default"), project("p")],
}));

describe("Replica", () => {
  it("lists members sorted, by group", () => {
    const r = base();
    expect(r.memberNames("")).toEqual(["a", "b"]);
    expect(r.memberNames("gpu")).toEqual(["b"]);
    expect(r.memberNames("none")).toEqual([]);
  });
  it("keeps a member's slot across removal and re-adding, and gives new members new slots", () => {
    const r = base();
    const slot = r.memberSlot("a");
    r.apply({ kind: "member.remove", name: "a" });
    expect(r.memberSlot("a")).toBe(-1);
    expect([r.slotOf("a"), r.nameAt(slot)]).toEqual([slot, null]); // the slot is kept, empty
    r.apply({ kind: "member.upsert", member: member("a").build() });
    expect(r.memberSlot("a")).toBe(slot);
    expect(r.nameAt(slot)).toBe("a");
    expect(r.slotOf("never")).toBe(-1);
    r.apply({ kind: "member.upsert", member: member("c").build() });
    expect(new Set([r.memberSlot("a"), r.memberSlot("b"), r.memberSlot("c")]).size).toBe(3);
  });
  it("changes a member's version (and the members version) on every upsert", () => {
    const r = base();
    const [v, all] = [r.memberVersion("a"), r.membersVersion];
    r.apply({ kind: "member.upsert", member: member("a").cpus(64).build() });
    expect(r.memberVersion("a")).toBeGreaterThan(v);
    expect(r.membersVersion).toBeGreaterThan(all);
    expect(JSON.parse(r.memberJson("a")!).resources.cpu.total).toBe(64);
  });
  it("answers instance queries, and forgets memoised answers when instances change", () => {
    const r = base();
    const names = (project: string, location: string) => (JSON.parse(r.instancesJson(project, location)) as Instance[]).map((i) => i.name);
    expect(names("", "")).toEqual(["i1", "i2"]);
    expect(names("p", "")).toEqual(["i2"]);
    r.apply({ kind: "instance.upsert", instance: instance("i4", "b", { project: "p" }) });
    expect(names("p", "")).toEqual(["i2", "i4"]);
    r.apply({ kind: "instance.remove", project: "p", name: "i2" });
    expect(names("p", "b")).toEqual(["i4"]);
  });
  it("trims full instances to what get_instances shows", () => {
    const r = base();
    const full: Instance = { ...instance("i9", "a"), architecture: "x86_64", description: "d", profiles: ["default"], created_at: "2025-01-01T00:00:00Z" };
    r.apply({ kind: "instance.upsert", instance: full });
    expect(Object.keys(JSON.parse(r.instancesJson("", "a"))[1]).sort()).toEqual(["config", "devices", "location", "name", "project", "status", "type"]);
  });
  it("counts instances, with pending placements on request", () => {
    const r = base();
    expect([r.instanceCount("", "b", false), r.instanceCount("", "b", true), r.instanceCount("default", "", true)]).toEqual([1, 2, 2]);
    r.apply({ kind: "pending.remove", id: "x" });
    expect(r.instanceCount("", "b", true)).toBe(1);
    r.apply({ kind: "pending.add", placement: { id: "y", project: "p", location: "a", name: "i5" } });
    expect(r.instanceCount("p", "a", true)).toBe(1);
  });
  it("keeps member states and projects, and drops a removed member's state", () => {
    const r = base();
    expect(r.memberState("a")?.sysinfo.load_averages).toEqual([1, 1, 1]);
    expect(r.memberState("b")).toBeNull();
    r.apply({ kind: "member_state.set", name: "b", state: memberState(3) });
    expect(r.memberState("b")?.sysinfo.load_averages[0]).toBe(3);
    r.apply({ kind: "member.remove", name: "b" });
    expect(r.memberState("b")).toBeNull();
    r.apply({ kind: "project.remove", name: "p" });
    expect([r.project("p"), r.project("default")?.name]).toEqual([null, "default"]);
  });
  it("round-trips through a snapshot (how a new worker is seeded)", () => {
    const r = base();
    const copy = new Replica(r.snapshot());
    expect(copy.memberNames("")).toEqual(["a", "b"]);
    expect(copy.instancesJson("", "")).toBe(r.instancesJson("", ""));
    expect(copy.instanceCount("", "", true)).toBe(3);
  });
});
