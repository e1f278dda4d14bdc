/**
 * Replicas started at the same moment on an empty PostgreSQL database: each creates what a first
 * start creates (the "default" group and project, the given admin token); the ones that come
 * second find it made and start too. Found by replicas.e2e.test.ts, where one of three replicas
 * sometimes died with "duplicate key value violates unique constraint".
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createBerth, type Berth } from "../../src/main.ts";
import { describeWithPostgres, startPostgres, type PostgresServer } from "../support/postgres.ts";

const ADMIN = "first-start-admin";

describeWithPostgres("replicas starting together on an empty database", () => {
  let pg: PostgresServer;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await pg?.stop();
  });

  it("all start, and there is one default group, one default project and one admin token", async () => {
    for (let round = 0; round < 4; round++) {
      const store = await pg.createDatabase();
      const dirs = [0, 1, 2].map(() => mkdtempSync(join(tmpdir(), "berth-first-")));
      const started = await Promise.allSettled(dirs.map((dataDir, i) => createBerth({
        dataDir, store, replicaName: `r${i}`, localMember: false, adminToken: ADMIN, logger: pino({ level: "silent" }), livenessIntervalMs: 0, sandboxPoolSize: 1,
      })));
      const berths = started.filter((s): s is PromiseFulfilledResult<Berth> => s.status === "fulfilled").map((s) => s.value);
      try {
        expect(started.filter((s) => s.status === "rejected").map((s) => String((s as PromiseRejectedResult).reason))).toEqual([]);
        const call = async (path: string) => ((await (await berths[0].app.request(path, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { metadata: any }).metadata;
        expect(await call("/1.0/cluster/groups")).toEqual(["/1.0/cluster/groups/default"]);
        expect(await call("/1.0/projects")).toEqual(["/1.0/projects/default"]);
        const admins = (await call("/1.0/tokens?recursion=1")).filter((t: { role: string }) => t.role === "admin");
        expect(admins).toHaveLength(1);
      } finally {
        for (const b of berths) await b.close();
        for (const d of dirs) rmSync(d, { recursive: true, force: true });
      }
    }
  }, 120_000);
});
