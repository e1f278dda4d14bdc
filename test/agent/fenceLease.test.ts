/** The agent's fence lease (docs/healing.md) with a fake monotonic clock. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FenceLeaseKeeper } from "../../src/agent/fenceLease.ts";
import { reconcile } from "../../src/agent/reconcile.ts";
import { desiredInstance } from "./fakeService.ts";
import { cleanUpData, tempDir } from "./support.ts";

let data: string;
let clock: number;
const now = () => clock;
const answer = (healing_threshold: number, fence_margin: number) => ({ status: "Online", message: "", offline_threshold: 20, healing_threshold, fence_margin });
const onDisk = () => JSON.parse(readFileSync(join(data, "fence.json"), "utf8"));

beforeEach(() => {
  data = tempDir("fence");
  clock = 1_000_000;
});
afterEach(() => cleanUpData(data));

describe("fence lease", () => {
  it("runs from when the answered heartbeat was sent, for threshold − margin, and is written for the supervisors", async () => {
    const keeper = new FenceLeaseKeeper(join(data, "fence.json"), now);
    await keeper.fenceable(["default/b", "default/a"]);
    clock += 500; // the answer arrives half a second after the heartbeat left
    await keeper.renew(1_000_000, answer(30, 6));
    expect(onDisk()).toMatchObject({ deadline: 1_000_000 + 24_000, thresholdS: 30, marginS: 6, instances: ["default/a", "default/b"] });
    expect(keeper.inForce()).toBe(30);
    // Healing off: no deadline.
    await keeper.renew(1_000_100, answer(0, 0));
    expect(onDisk().deadline).toBeNull();
    expect(keeper.held()).toBe(false);
  });

  it("follows the latest heartbeat sent: a crossing answer to an older one is ignored; a lower threshold applies at once", async () => {
    const keeper = new FenceLeaseKeeper(join(data, "fence.json"), now);
    await keeper.renew(2_000, answer(60, 12));
    await keeper.renew(1_000, answer(60, 12)); // an answer to an earlier heartbeat, arriving late
    expect(keeper.current().deadline).toBe(2_000 + 48_000);
    await keeper.renew(3_000, answer(10, 2));
    expect(keeper.current().deadline).toBe(3_000 + 8_000);
    expect(keeper.inForce()).toBe(10);
  });

  it("once run out, holds starts back until a desired state asked for after that moment is read", async () => {
    const keeper = new FenceLeaseKeeper(join(data, "fence.json"), now);
    await keeper.renew(clock, answer(10, 2));
    clock += 7_999;
    expect(keeper.held()).toBe(false);
    const askedBefore = clock;
    clock += 1;
    expect(keeper.held()).toBe(true); // the deadline
    await keeper.renew(clock, answer(10, 2)); // the service answers again: still held
    expect(keeper.held()).toBe(true);
    keeper.desiredRead(askedBefore); // a long-poll asked before the fence answers: stale
    expect(keeper.held()).toBe(true);
    clock += 10;
    keeper.desiredRead(clock - 5);
    expect(keeper.held()).toBe(false);
  });

  it("a renewal that comes after the deadline passed unnoticed still holds starts back", async () => {
    const keeper = new FenceLeaseKeeper(join(data, "fence.json"), now);
    await keeper.renew(clock, answer(10, 2));
    clock += 60_000; // the agent was paused: nothing looked at the lease meanwhile
    await keeper.renew(clock, answer(10, 2));
    expect(keeper.held()).toBe(true);
  });

  it("a restarted agent keeps the lease its previous run left, so a due fence is never lifted", async () => {
    const first = new FenceLeaseKeeper(join(data, "fence.json"), now);
    await first.fenceable(["default/a"]);
    await first.renew(clock, answer(10, 2));
    const second = new FenceLeaseKeeper(join(data, "fence.json"), now);
    await second.load();
    await second.fenceable(["default/a", "default/c"]);
    expect(onDisk()).toMatchObject({ deadline: 1_000_000 + 8_000, instances: ["default/a", "default/c"] });
  });
});

describe("reconcile while fenced", () => {
  it("starts nothing healing would move, and everything else as usual", () => {
    const moved = { ...desiredInstance("moved", "Running"), fence: true };
    const local = desiredInstance("local", "Running");
    const known = new Map([["default/moved", moved], ["default/local", local]]);
    const base = { desired: [moved, local], known, observed: new Map(), backoff: new Map(), busy: new Set<string>(), now: 0 };
    expect(reconcile({ ...base, holdFenced: true }).actions.map((a) => `${a.kind} ${a.instance.name}`)).toEqual(["start local"]);
    expect(reconcile({ ...base, holdFenced: false }).actions.map((a) => `${a.kind} ${a.instance.name}`)).toEqual(["start moved", "start local"]);
  });
});
