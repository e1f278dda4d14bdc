/**
 * The randomized concurrency run (test/support/randomOps.ts) with a small count: every invariant
 * holds and no request answers 5xx. BERTH_RANDOM_SEEDS=1,2,3 reruns chosen seeds; bench/concurrency.ts
 * runs many more operations.
 */
import { afterEach, beforeEach, expect, it } from "vitest";
import { makeHarness, type Harness } from "../support/harness.ts";
import { randomRun } from "../support/randomOps.ts";

const SEEDS = (process.env.BERTH_RANDOM_SEEDS ?? "1,2,3").split(",").map(Number);

let h: Harness;
beforeEach(async () => { h = await makeHarness(); });
afterEach(async () => { await h.close(); });

it.each(SEEDS)("seed %i: 150 operations at once keep every invariant", { timeout: 120_000 }, async (seed) => {
  const report = await randomRun(h, { seed, operations: 150, lanes: 8 });
  expect(report.violations, JSON.stringify(report)).toEqual([]);
  expect(report.operations).toBe(150);
  // The run did exercise the races: evacuations and creates at least happened.
  expect(report.byKind.create ?? 0).toBeGreaterThan(10);
  expect((report.byKind.evacuate ?? 0) + (report.byKind.restore ?? 0)).toBeGreaterThan(0);
});
