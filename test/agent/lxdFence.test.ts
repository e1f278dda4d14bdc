/**
 * The lxd fence watcher's looks (src/agent/lxdFence.ts) with a fake monotonic clock and a fake
 * LXD: nothing is asked of LXD while the lease holds; at the deadline exactly the running
 * containers this member owns and the lease lists are force-stopped and recorded; LXD is asked
 * again, not more than once a second, while the lease stays run out; a renewed lease fences nothing.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { LxdFence } from "../../src/agent/lxdFence.ts";
import type { FenceLease } from "../../src/agent/supervisorState.ts";

const BOOT = "boot-1";
let clock: number;
let lease: FenceLease | undefined;
let containers: { name: string; status: string; config: Record<string, string> }[];
let requests: string[];
let failStops: Set<string>;
let recorded: [string, string][];

const container = (name: string, status: string, member = "m1", project = "default") => ({
  name, status, config: { "user.berth.member": member, "user.berth.project": project, "user.berth.name": name },
});

const lxd = {
  get: async <T>(path: string): Promise<T> => {
    requests.push(`GET ${path}`);
    return containers.map((c) => ({ ...c, architecture: "x86_64", devices: {}, profiles: [], description: "" })) as T;
  },
  run: async (method: string, path: string, body?: unknown) => {
    requests.push(`${method} ${path} ${JSON.stringify(body)}`);
    const name = decodeURIComponent(path.split("/")[3]!);
    if (failStops.has(name)) throw new Error("LXD says no");
    containers = containers.map((c) => (c.name === name ? { ...c, status: "Stopped" } : c));
    return { id: "op", status: "Success", err: "", metadata: null };
  },
};

function watch(): LxdFence {
  return new LxdFence({
    member: "m1", lxd, lease: () => lease, now: () => clock, boot: BOOT, log: () => {},
    recordFence: async (i, reason) => { recorded.push([`${i.project}/${i.name}`, reason]); },
  });
}

const stops = () => requests.filter((r) => r.startsWith("PUT"));

beforeEach(() => {
  clock = 50_000;
  // Renewed by a heartbeat sent at 50 s, threshold 10 s, margin 2 s: deadline 58 s.
  lease = { bootId: BOOT, deadline: 58_000, thresholdS: 10, marginS: 2, instances: ["default/web", "default/api", "other/web", "default/gone"] };
  containers = [
    container("web", "Running"), // listed, ours: fenced
    container("db", "Running"), // ours but not listed (healing would not move it): kept
    container("api", "Frozen"), // listed, ours, not stopped: fenced
    container("gone", "Stopped"), // listed but stopped already: nothing to do
    container("other", "Running", "m2"), // another member's
    { name: "mine", status: "Running", config: {} }, // not Berth's at all
  ];
  requests = [];
  failStops = new Set();
  recorded = [];
});

describe("the lxd fence watcher", () => {
  it("asks LXD nothing while the lease holds, and at the deadline force-stops only the listed containers this member owns", async () => {
    const fence = watch();
    clock = 57_999;
    expect(await fence.look()).toEqual([]);
    expect(requests).toEqual([]);

    clock = 58_000;
    expect((await fence.look()).sort()).toEqual(["default/api", "default/web"]);
    expect(stops().sort()).toEqual([
      'PUT /1.0/instances/api/state?project=default {"action":"stop","force":true}',
      'PUT /1.0/instances/web/state?project=default {"action":"stop","force":true}',
    ]);
    expect(recorded.map(([key]) => key).sort()).toEqual(["default/api", "default/web"]);
    expect(recorded[0]![1]).toBe("fenced: no acknowledged heartbeat for 8 s (healing threshold 10 s, margin 2 s)");
    expect(Object.fromEntries(containers.map((c) => [c.name, c.status]))).toEqual({ web: "Stopped", db: "Running", api: "Stopped", gone: "Stopped", other: "Running", mine: "Running" });
  });

  it("while the lease stays run out, looks at LXD again at most once a second and fences a container started meanwhile", async () => {
    const fence = watch();
    clock = 60_000;
    await fence.look();
    const asked = requests.length;
    containers = containers.map((c) => (c.name === "web" ? { ...c, status: "Running" } : c)); // someone started it again
    clock = 60_500;
    expect(await fence.look()).toEqual([]);
    expect(requests.length).toBe(asked);
    clock = 61_000;
    expect(await fence.look()).toEqual(["default/web"]);
  });

  it("tries a failed forced stop again at the next look", async () => {
    const fence = watch();
    failStops.add("web");
    clock = 58_000;
    expect(await fence.look()).toEqual(["default/api"]);
    failStops.clear();
    clock = 59_000;
    expect(await fence.look()).toEqual(["default/web"]);
  });

  it("fences nothing under a renewed lease, with healing off, or under a lease of another boot", async () => {
    const fence = watch();
    clock = 70_000;
    lease = { ...lease!, deadline: 78_000 }; // a heartbeat answered since
    expect(await fence.look()).toEqual([]);
    lease = { ...lease, deadline: null };
    expect(await fence.look()).toEqual([]);
    lease = { ...lease, deadline: 58_000, bootId: "boot-0" };
    expect(await fence.look()).toEqual([]);
    lease = undefined;
    expect(await fence.look()).toEqual([]);
    expect(requests).toEqual([]);
  });
});
