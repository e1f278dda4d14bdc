/**
 * The randomized concurrency run (test/support/randomOps.ts) with a large count: creates, deletes,
 * moves, state changes, limit changes, member churn, evacuations and restores all at once, then
 * every invariant. Prints violations (must be 0) and operations/s with 12 lanes, beside the same
 * seed run one operation at a time (the baseline, same run).
 *
 *   npm run bench -- concurrency          BERTH_RANDOM_SEEDS=1,2 BERTH_RANDOM_OPS=5000 to change it
 */
import { makeHarness } from "../test/support/harness.ts";
import { randomRun } from "../test/support/randomOps.ts";

const SEEDS = (process.env.BERTH_RANDOM_SEEDS ?? "11,12,13,14").split(",").map(Number);
const OPS = Number(process.env.BERTH_RANDOM_OPS ?? 1500);

async function once(seed: number, lanes: number) {
  const h = await makeHarness();
  try {
    const t0 = performance.now();
    const report = await randomRun(h, { seed, operations: OPS, lanes });
    return { report, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await h.close();
  }
}

export async function main(): Promise<void> {
  let violations = 0;
  for (const seed of SEEDS) {
    const serial = await once(seed, 1);
    const parallel = await once(seed, 12);
    violations += serial.report.violations.length + parallel.report.violations.length;
    for (const v of parallel.report.violations.slice(0, 10)) console.log(`  VIOLATION (seed ${seed}): ${v}`);
    const rate = (r: { seconds: number }) => OPS / r.seconds;
    console.log(
      `seed ${seed}: ${OPS} operations, 12 lanes ${rate(parallel).toFixed(0)} ops/s, ${parallel.report.violations.length} violations, ` +
      `statuses ${JSON.stringify(parallel.report.statuses)}; baseline one at a time ${rate(serial).toFixed(0)} ops/s, ratio ${(rate(parallel) / rate(serial)).toFixed(2)}`,
    );
  }
  console.log(`invariant violations in all: ${violations}`);
  if (violations > 0) process.exitCode = 1;
}
