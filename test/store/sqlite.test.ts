/** The store conformance suite against the embedded SQLite store, in a temporary directory. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../../src/store/sqliteStore.ts";
import type { Store } from "../../src/store/store.ts";
import { storeConformance } from "./store.case.ts";

storeConformance("sqlite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-store-"));
  const path = join(dir, "berth.db");
  const opened: Store[] = [new SqliteStore(path)];
  return {
    store: opened[0],
    async reopen() {
      const other = new SqliteStore(path);
      opened.push(other);
      return other;
    },
    async close() {
      for (const store of opened) await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
