/**
 * Prints the plain closing line CI counts: "N passed, N failed" (", N skipped" when any).
 * A file that failed to load, or a suite whose beforeAll/afterAll threw (its tests then show as
 * skipped), counts as one failure each: a red run never ends with "0 failed".
 */
import type { Reporter, TestModule, TestSuite } from "vitest/node";

const hasFailedTest = (entity: TestModule | TestSuite) => [...entity.children.allTests()].some((t) => t.result().state === "failed");

export default class CountReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else skipped++;
      }
      const failedSuites = [...mod.children.allSuites()].filter((s) => s.state() === "failed" && !hasFailedTest(s));
      // Only the outermost such suite counts (an inner suite fails with its parent's hook).
      failed += failedSuites.filter((s) => !failedSuites.some((outer) => outer !== s && [...outer.children.allSuites()].includes(s))).length;
      if (mod.state() === "failed" && failedSuites.length === 0 && !hasFailedTest(mod)) failed++;
    }
    failed += unhandledErrors.length;
    const tail = skipped > 0 ? `, ${skipped} skipped` : "";
    process.stdout.write(`\n${passed} passed, ${failed} failed${tail}\n`);
  }
}
