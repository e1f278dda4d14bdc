/**
 * A replica records its addresses as soon as it listens, not at its next tick: its first
 * announcement is made while it starts, before any listener is bound, and a join token made by
 * another replica in the next second would otherwise leave it out (found by replicas.e2e, which
 * made a token within a second of the replicas' start).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import pino from "pino";
import { expect, it } from "vitest";
import { startServer } from "../../src/cli/serve.ts";
import { describeWithPostgres } from "../support/postgres.ts";
import { postgresForFile } from "./inProcess.ts";

describeWithPostgres("a replica's addresses", () => {
  const pgServer = postgresForFile();

  it("are in the replicas table when its server has started", async () => {
    const store = await pgServer.database();
    const dataDir = mkdtempSync(join(tmpdir(), "berth-announce-"));
    pgServer.closeAfter({ close: async () => rmSync(dataDir, { recursive: true, force: true }) });
    const server = pgServer.closeAfter(await startServer({
      listen: "127.0.0.1:0", unix: false, dataDir, store, replicaName: "r1", localMember: false,
      adminToken: "announce-admin", logger: pino({ level: "silent" }), livenessIntervalMs: 0, sandboxPoolSize: 1,
    }));
    const client = new pg.Client({ connectionString: store });
    await client.connect();
    try {
      const { rows } = await client.query<{ id: string; urls: string[] }>("select id, urls from replicas");
      expect(rows).toEqual([{ id: "r1", urls: [server.url] }]);
    } finally {
      await client.end();
    }
  });
});
