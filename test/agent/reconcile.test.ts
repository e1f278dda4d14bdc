import { describe, expect, it } from "vitest";
import type { ObservedStatus } from "../../src/agent/protocol.ts";
import { afterFailure, reconcile, type Backoff, type ReconcileInput } from "../../src/agent/reconcile.ts";
import { desiredInstance } from "./fakeService.ts";

const NOW = 1_000_000;

/** Inputs from a compact description: desired "name:Running", observed "name:Error", known names. */
function input(spec: {
  desired?: readonly string[];
  observed?: readonly string[];
  known?: readonly string[];
  config?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  backoff?: Record<string, Backoff>;
  busy?: readonly string[];
}): ReconcileInput {
  const desired = (spec.desired ?? []).map((d) => {
    const [name, power] = d.split(":");
    return desiredInstance(name, power as "Running" | "Stopped", spec.config?.[name] ?? {});
  });
  const known = new Map(desired.map((i) => [`default/${i.name}`, i]));
  for (const name of spec.known ?? []) known.set(`default/${name}`, desiredInstance(name, "Running", spec.config?.[name] ?? {}));
  const observed = new Map((spec.observed ?? []).map((o) => {
    const [name, status] = o.split(":");
    return [`default/${name}`, { status: status as ObservedStatus }];
  }));
  const backoff = new Map(Object.entries(spec.backoff ?? {}).map(([name, b]) => [`default/${name}`, b]));
  return { desired, known, observed, backoff, busy: new Set((spec.busy ?? []).map((n) => `default/${n}`)), now: NOW };
}

/** The actions as "kind name[ timeout]" strings. */
function actions(spec: Parameters<typeof input>[0]): string[] {
  return reconcile(input(spec)).actions.map((a) => `${a.kind} ${a.instance.name}${a.kind === "start" ? "" : ` ${a.timeoutS}s`}`);
}

describe("reconcile: desired + observed → actions", () => {
  it.each([
    // [case, spec, expected actions]
    ["should run, not running (never seen) → start", { desired: ["a:Running"] }, ["start a"]],
    ["should run, observed Stopped → start", { desired: ["a:Running"], observed: ["a:Stopped"] }, ["start a"]],
    ["should run and runs → nothing (idempotent)", { desired: ["a:Running"], observed: ["a:Running"] }, []],
    ["should stop, runs → stop with the default 30 s", { desired: ["a:Stopped"], observed: ["a:Running"] }, ["stop a 30s"]],
    ["should stop, stopped → nothing", { desired: ["a:Stopped"], observed: ["a:Stopped"] }, []],
    ["should stop, never seen → nothing", { desired: ["a:Stopped"] }, []],
    ["should stop, Error → stop (clears the Error)", { desired: ["a:Stopped"], observed: ["a:Error"] }, ["stop a 30s"]],
    ["should run, Error, no autorestart → nothing: the Error stays visible", { desired: ["a:Running"], observed: ["a:Error"] }, []],
    [
      "should run, Error, autorestart, no back-off → start",
      { desired: ["a:Running"], observed: ["a:Error"], config: { a: { "boot.autorestart": "true" } } },
      ["start a"],
    ],
    [
      "boot.host_shutdown_timeout is the stop's time-out",
      { desired: ["a:Stopped"], observed: ["a:Running"], config: { a: { "boot.host_shutdown_timeout": "5" } } },
      ["stop a 5s"],
    ],
    ["known but no longer listed (moved away) → forget", { desired: [], observed: ["a:Running"], known: ["a"] }, ["forget a 30s"]],
    ["known, not listed, already stopped → forget all the same (drops its record)", { known: ["a"] }, ["forget a 30s"]],
    ["busy instances are left alone", { desired: ["a:Running", "b:Running"], busy: ["a"], known: ["c"] }, ["start b", "forget c 30s"]],
    ["a busy unlisted instance is not forgotten yet", { known: ["c"], busy: ["c"] }, []],
  ] as const)("%s", (_case, spec, expected) => {
    expect(actions(spec)).toEqual(expected);
  });

  it("waits out a back-off of the same kind, and says when to look again", () => {
    const spec = {
      desired: ["a:Running", "b:Stopped"],
      observed: ["a:Error", "b:Running"],
      config: { a: { "boot.autorestart": "true" } },
      backoff: {
        a: { kind: "start", attempt: 2, notBefore: NOW + 4_000 },
        b: { kind: "stop", attempt: 1, notBefore: NOW + 1_000 },
      } as Record<string, Backoff>,
    };
    const result = reconcile(input(spec));
    // Both held back; the earlier end (b's, 1 s from now) is when to reconcile again.
    expect(result.actions).toEqual([]);
    expect(result.wakeAt).toBe(NOW + 1_000);
  });

  it("a back-off ends at its time, and one of another kind holds nothing", () => {
    const spec = {
      desired: ["a:Running", "b:Stopped"],
      observed: ["a:Error", "b:Error"],
      config: { a: { "boot.autorestart": "true" } },
      backoff: {
        a: { kind: "start", attempt: 3, notBefore: NOW }, // ends now: start
        b: { kind: "start", attempt: 1, notBefore: NOW + 8_000 }, // a start's back-off does not hold a stop
      } as Record<string, Backoff>,
    };
    expect(actions(spec)).toEqual(["start a", "stop b 30s"]);
    expect(reconcile(input(spec)).wakeAt).toBeNull();
  });
});

describe("afterFailure: restart back-off", () => {
  it("waits 1 s, 2 s, 4 s … capped at 30 s", () => {
    let backoff: Backoff | undefined;
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      backoff = afterFailure(backoff, "start", 500, NOW);
      waits.push(backoff.notBefore - NOW);
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it("starts over after a run of 60 s or more, or after a failure of another kind", () => {
    const long = afterFailure({ kind: "start", attempt: 5, notBefore: 0 }, "start", 60_000, NOW);
    expect(long).toEqual({ kind: "start", attempt: 1, notBefore: NOW + 1_000 });
    const short = afterFailure({ kind: "start", attempt: 5, notBefore: 0 }, "start", 59_999, NOW);
    expect(short.notBefore - NOW).toBe(30_000); // 2^5 s = 32 s, capped
    const other = afterFailure({ kind: "stop", attempt: 5, notBefore: 0 }, "start", undefined, NOW);
    expect(other).toEqual({ kind: "start", attempt: 1, notBefore: NOW + 1_000 });
  });
});
