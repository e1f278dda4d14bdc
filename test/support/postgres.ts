/**
 * The PostgreSQL suites: one throwaway server per test file (startPostgres in beforeAll, stop in
 * afterAll, from ./postgresServer.ts); each test takes a fresh database from it (createDatabase),
 * so tests never depend on each other.
 *
 * describeWithPostgres: without the server binaries the suite skips loudly, except under CI=true,
 * where it fails.
 */
import { describe, it } from "vitest";
import { postgresUnavailable } from "./postgresServer.ts";

export { postgresBinDir, postgresUnavailable, startPostgres, type PostgresServer } from "./postgresServer.ts";

/** `describe` when a server can be started; otherwise a loud skip, or under CI=true a failing test. */
export function describeWithPostgres(name: string, body: () => void): void {
  const why = postgresUnavailable();
  if (why === null) {
    describe(name, body);
    return;
  }
  if (process.env.CI === "true") {
    describe(name, () => {
      it("needs a PostgreSQL server", () => {
        throw new Error(`${why}: under CI=true the PostgreSQL suites must run`);
      });
    });
    return;
  }
  console.warn(`\n${"!".repeat(100)}\n!!! SKIPPING the PostgreSQL suite "${name}": ${why}\n${"!".repeat(100)}\n`);
  describe.skip(name, body);
}
