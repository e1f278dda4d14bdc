/**
 * The store conformance suite against the PostgreSQL store, on a throwaway server started for this
 * file (test/support/postgres.ts), a fresh database per test.
 */
import { afterAll, beforeAll } from "vitest";
import { PgStore } from "../../src/store/pg/pgStore.ts";
import type { Store } from "../../src/store/store.ts";
import { describeWithPostgres, startPostgres, type PostgresServer } from "../support/postgres.ts";
import { storeConformance } from "./store.case.ts";

describeWithPostgres("PostgreSQL store", () => {
  let server: PostgresServer;
  beforeAll(async () => { server = await startPostgres(); });
  afterAll(async () => { await server?.stop(); });

  storeConformance("postgres", async () => {
    const url = await server.createDatabase();
    const opened: Store[] = [await PgStore.open({ url })];
    return {
      store: opened[0],
      async reopen() {
        const other = await PgStore.open({ url });
        opened.push(other);
        return other;
      },
      async close() {
        for (const store of opened) await store.close();
      },
    };
  });
});
