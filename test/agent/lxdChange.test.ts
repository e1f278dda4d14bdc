/**
 * A change Berth made to an instance, merged into its LXD container's definition (three-way:
 * what Berth had, what it has now, what LXD has), and the agent's book of changes not applied yet.
 */
import { describe, expect, it } from "vitest";
import { DefinitionChanges } from "../../src/agent/definitionChanges.ts";
import { mergeChange, sameDefinition } from "../../src/agent/drivers/lxdChange.ts";
import { desiredInstance } from "./fakeService.ts";

describe("merging Berth's change into the container's definition", () => {
  const current = {
    config: { "user.team": "blue", "limits.memory": "128MiB", "volatile.uuid": "u-1", "image.os": "busybox", "user.by-hand": "yes" },
    devices: { data: { type: "disk", source: "/srv/a", path: "/mnt" }, manual: { type: "disk", source: "/srv/m", path: "/m" } },
    profiles: ["default"], description: "",
  };
  const previous = { config: { "user.team": "blue", "limits.memory": "128MiB" }, devices: { data: { type: "disk", source: "/srv/a", path: "/mnt" } }, profiles: ["default"], description: "" };

  it("sets what Berth sets, drops what it dropped, keeps LXD's own keys and what was set by hand", () => {
    const next = { config: { "user.team": "red", "limits.cpu.allowance": "50ms/100ms" }, devices: {}, profiles: ["default", "extra"], description: "changed" };
    expect(mergeChange(current, previous, next)).toEqual({
      config: { "user.team": "red", "limits.cpu.allowance": "50ms/100ms", "volatile.uuid": "u-1", "image.os": "busybox", "user.by-hand": "yes" },
      devices: { manual: { type: "disk", source: "/srv/m", path: "/m" } },
      profiles: ["default", "extra"],
      description: "changed",
    });
  });

  it("sees no difference in key order, and one in a device's value", () => {
    expect(sameDefinition({ ...previous, config: { "limits.memory": "128MiB", "user.team": "blue" } }, previous)).toBe(true);
    expect(sameDefinition({ ...previous, devices: { data: { type: "disk", source: "/srv/b", path: "/mnt" } } }, previous)).toBe(false);
  });
});

describe("changes not applied yet", () => {
  const v1 = desiredInstance("web", "Running", { "user.team": "blue" });
  const v2 = desiredInstance("web", "Running", { "user.team": "red" });
  const v3 = desiredInstance("web", "Running", { "user.team": "green" });

  it("notes a change of definition, not of power state, and keeps the earliest definition before", () => {
    const changes = new DefinitionChanges();
    changes.note("default/web", v1, { ...v1, desired: "Stopped", fence: true });
    expect(changes.take(() => true)).toEqual([]);
    changes.note("default/web", v1, v2);
    changes.note("default/web", v2, v3); // before the first was applied: still from v1
    expect(changes.take((key) => key !== "default/web")).toEqual([]); // busy: stays pending
    expect(changes.take(() => true)).toEqual([["default/web", v1]]);
    expect(changes.take(() => true)).toEqual([]);
  });

  it("a change the driver could not apply is tried again from the same definition with the next change", () => {
    const changes = new DefinitionChanges();
    changes.note("default/web", v1, v2);
    const [[key, before]] = changes.take(() => true);
    changes.notApplied(key, before);
    changes.note("default/web", v2, v3);
    expect(changes.take(() => true)).toEqual([["default/web", v1]]);
  });
});
