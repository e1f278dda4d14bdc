/** A Berth built in a temp dir with a fake clock, and a small client for app.request. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import type { Instance, Operation } from "../../src/domain/types.ts";
import { createBerth, type Berth, type BerthOptions } from "../../src/main.ts";
import { seedCertificate } from "./certificate.ts";
import { memberBody } from "./memberBody.ts";
import { TestExecutor } from "./testExecutor.ts";

export const ADMIN = "test-admin-token";

export class FakeClock {
  /** Called after every advance (the harness runs a liveness sweep, as the service's timer would). */
  onAdvance: () => Promise<unknown> = async () => {};
  constructor(public ms = Date.parse("2026-01-01T00:00:00Z")) {}
  now = () => this.ms;
  /** Moves time on, and resolves once the sweep that follows is done. */
  async advance(seconds: number): Promise<void> {
    this.ms += seconds * 1000;
    await this.onAdvance();
  }
}

export interface Reply<T = any> {
  status: number;
  body: { type: string; metadata: T; error: string; error_code: number; operation?: string };
}

/** A reply whose operation (when the answer was async) was waited for. */
export interface Settled<T = any> extends Reply<T> {
  /** The operation as it ended (async answers only). */
  op?: Operation;
}

export interface Harness {
  berth: Berth;
  /** The executor every instance action goes through: hold, fail or slow actions with it. */
  executor: TestExecutor;
  clock: FakeClock;
  dir: string;
  request<T = any>(method: string, path: string, body?: unknown, token?: string | null): Promise<Reply<T>>;
  /** Like request, and an async answer (202) is waited for until its operation ends (`op`). */
  run<T = any>(method: string, path: string, body?: unknown, token?: string | null): Promise<Settled<T>>;
  /**
   * Creates an instance (POST /1.0/instances, query e.g. "target=n1") and waits for its operation;
   * returns the instance as it then is. Throws with the server's error when refused or failed.
   */
  createInstance(body: Record<string, unknown>, query?: string): Promise<Instance>;
  /** Registers an Online member with declared resources. */
  addMember(name: string, extra?: Record<string, unknown>): Promise<void>;
  heartbeat(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function makeHarness(opts: Partial<BerthOptions> & { dir?: string } = {}): Promise<Harness> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "berth-test-"));
  const clock = new FakeClock();
  const executor = new TestExecutor();
  seedCertificate(dir);
  const berth = await createBerth({
    dataDir: dir, localMember: false, adminToken: ADMIN, now: clock.now, logger: pino({ level: process.env.BERTH_TEST_LOG ?? "silent" }),
    livenessIntervalMs: 0, executor: executor.install, ...opts,
  });
  clock.onAdvance = async () => {
    await berth.liveness.tick();
    await berth.healing.tick();
  };
  const request = async (method: string, path: string, body?: unknown, token: string | null = ADMIN) => {
    const headers: Record<string, string> = {};
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === "string" ? body : JSON.stringify(body);
      headers["content-type"] = "application/json";
    }
    const res = await berth.app.request(path, { method, headers, body: payload });
    const text = await res.text();
    let parsed: any;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { raw: text };
    }
    return { status: res.status, body: parsed };
  };
  const heartbeat = async (name: string) => {
    const r = await request("POST", `/1.0/cluster/members/${name}/heartbeat`, {});
    if (r.status !== 200) throw new Error(`heartbeat ${name}: ${r.status} ${r.body.error}`);
  };
  const run = async (method: string, path: string, body?: unknown, token: string | null = ADMIN): Promise<Settled> => {
    const reply: Settled = await request(method, path, body, token);
    if (reply.status !== 202 || !reply.body.operation) return reply;
    const waited = await request("GET", `${reply.body.operation}/wait?timeout=30`, undefined, token);
    return { ...reply, op: waited.body.metadata };
  };
  const createInstance = async (body: Record<string, unknown>, query = "") => {
    const r = await run("POST", `/1.0/instances${query ? `?${query}` : ""}`, body);
    if (r.status !== 202) throw new Error(`create ${String(body.name)}: ${r.status} ${r.body.error}`);
    if (r.op?.status !== "Success") throw new Error(`create ${String(body.name)}: operation ${r.op?.status} ${r.op?.err}`);
    const project = /(?:^|&)project=([^&]+)/.exec(query)?.[1];
    return (await request("GET", `/1.0/instances/${String(body.name)}${project ? `?project=${project}` : ""}`)).body.metadata as Instance;
  };
  return {
    berth, executor, clock, dir, request, run, createInstance, heartbeat,
    async addMember(name, extra = {}) {
      const r = await request("POST", "/1.0/cluster/members", memberBody(name, extra));
      if (r.status !== 201) throw new Error(`add member ${name}: ${r.status} ${r.body.error}`);
      await heartbeat(name);
    },
    async close() {
      executor.releaseAll();
      await berth.close();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
