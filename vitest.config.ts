import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

/** The end-to-end suites (real agents, lxc, browser, PostgreSQL, LXD): `npm run test:unit` leaves them out. */
export const END_TO_END = [
  "test/agent/**", "test/lxc/**", "test/lxd/**", "test/ui/**", "test/replicas/**", "test/store/postgres.test.ts", "**/*.e2e.test.ts",
];

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: process.env.BERTH_TEST_UNIT === "1" ? ["**/node_modules/**", ...END_TO_END] : ["**/node_modules/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Two files at a time even on two cores (vitest's default there is one): much of the suite
    // waits on child processes, sockets and real thresholds, and it holds under load (test:stress).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    globalSetup: ["./test/support/globalSetup.ts"],
    reporters: ["default", "./test/support/countReporter.ts"],
  },
});
