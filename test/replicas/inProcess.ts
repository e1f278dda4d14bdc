/**
 * Replicas of Berth built in this process (createBerth) on one PostgreSQL database, for tests that
 * need to reach inside one of them (its executor, its store handle, its channel) while the others
 * run as they do in production. replicas.e2e.test.ts runs the compiled CLI as child processes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { createBerth, type Berth, type BerthOptions } from "../../src/main.ts";
import { startPostgres, type PostgresServer } from "../support/postgres.ts";

export const ADMIN = "in-process-admin";
const GiB = 1024 ** 3;

export interface InProcessReplica {
  name: string;
  berth: Berth;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Waits for the operation an async answer named; returns it as it ended. */
  settle(reply: { status: number; body: any }): Promise<any>;
  close(): Promise<void>;
}

export async function startReplica(store: string, name: string, extra: Partial<BerthOptions> = {}): Promise<InProcessReplica> {
  const dir = mkdtempSync(join(tmpdir(), `berth-${name}-`));
  const berth = await createBerth({
    dataDir: dir, store, replicaName: name, localMember: false, adminToken: ADMIN, logger: pino({ level: process.env.BERTH_TEST_LOG ?? "silent" }),
    livenessIntervalMs: 0, sandboxPoolSize: 1, ...extra,
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await berth.app.request(path, {
      method, headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() as any };
  };
  let closed = false;
  return {
    name, berth, call,
    async settle(reply) {
      expect(reply.status, JSON.stringify(reply.body)).toBe(202);
      return (await call("GET", `${reply.body.operation}/wait?timeout=60`)).body.metadata;
    },
    async close() {
      if (closed) return;
      closed = true;
      await berth.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A member with declared resources, Online (one heartbeat). */
export async function addMember(replica: InProcessReplica, name: string, cpus: number): Promise<void> {
  const added = await replica.call("POST", "/1.0/cluster/members", { server_name: name, resources: { cpu: { total: cpus }, memory: { total: 64 * GiB } } });
  expect(added.status, JSON.stringify(added.body)).toBe(201);
  expect((await replica.call("POST", `/1.0/cluster/members/${name}/heartbeat`, {})).status).toBe(200);
}

/**
 * Inside a describeWithPostgres: one server for the file (started before its tests, stopped after
 * them), and what each test opens (replicas, stores, channels), closed after it, last first.
 */
export function postgresForFile(): { database(): Promise<string>; closeAfter<T extends { close(): Promise<void> }>(opened: T): T } {
  let server: PostgresServer | null = null;
  const opened: { close(): Promise<void> }[] = [];
  beforeAll(async () => { server = await startPostgres(); }, 120_000);
  afterEach(async () => {
    for (const c of opened.splice(0).reverse()) await c.close();
  });
  afterAll(async () => { await server?.stop(); });
  return {
    database: () => server!.createDatabase(),
    closeAfter: (c) => {
      opened.push(c);
      return c;
    },
  };
}
