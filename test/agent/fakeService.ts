/**
 * A small in-process service that speaks the agent protocol (docs/agents.md): heartbeats, the
 * desired-state long-poll and answers. Tests set the desired state and read what the agent reported.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AgentRequest, DesiredInstance, HeartbeatBody, ObservedInstance } from "../../src/agent/protocol.ts";
import { waitUntil } from "./support.ts";

export class FakeService {
  readonly member: string;
  readonly credential: string;
  revision = 1;
  instances: DesiredInstance[] = [];
  requests: AgentRequest[] = [];
  /** Every heartbeat body, in arrival order. */
  readonly heartbeats: HeartbeatBody[] = [];
  /** Every answer, by request id. */
  readonly answers = new Map<string, { log: string }>();
  /** Every desired-state request's query (since, wait), in arrival order. */
  readonly polls: { since: string | null; wait: string | null }[] = [];
  offlineThreshold = 20;
  heartbeatInterval: number | undefined = 1;
  private readonly server: Server;
  private waiters: (() => void)[] = [];
  url = "";

  constructor(opts: { member?: string; credential?: string } = {}) {
    this.member = opts.member ?? "m1";
    this.credential = opts.credential ?? "agent-secret";
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => this.send(res, 500, { type: "error", error_code: 500, error: String(err) }));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    const address = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${address.port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const wake of this.waiters.splice(0)) wake();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Replaces the desired state (a new revision; held polls answer at once). */
  setDesired(instances: DesiredInstance[]): void {
    this.instances = instances;
    this.bump();
  }

  addRequest(request: AgentRequest): void {
    this.requests = [...this.requests, request];
    this.bump();
  }

  /** The latest complete observed list the agent sent (any heartbeat with instances). */
  reported(): ObservedInstance[] | undefined {
    for (let i = this.heartbeats.length - 1; i >= 0; i--) if (this.heartbeats[i].instances) return this.heartbeats[i].instances;
    return undefined;
  }

  /** The latest report of one instance. */
  reportedOf(name: string, project = "default"): ObservedInstance | undefined {
    return this.reported()?.find((i) => i.name === name && i.project === project);
  }

  /** Waits until the latest report satisfies test; returns it. */
  async waitForReport(test: (instances: ObservedInstance[]) => boolean, what: string, timeoutMs = 30_000): Promise<ObservedInstance[]> {
    await waitUntil(() => {
      const latest = this.reported();
      return latest !== undefined && test(latest);
    }, `${what}; last report: ${JSON.stringify(this.reported())}`, timeoutMs);
    return this.reported()!;
  }

  private bump(): void {
    this.revision++;
    for (const wake of this.waiters.splice(0)) wake();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    if (req.headers.authorization !== `Bearer ${this.credential}`) {
      return this.send(res, 401, { type: "error", error_code: 401, error: "Missing or invalid bearer token" });
    }
    const m = /^\/1\.0\/cluster\/members\/([^/]+)\/(heartbeat|desired|answers\/([^/]+))$/.exec(url.pathname);
    if (!m) return this.send(res, 404, { type: "error", error_code: 404, error: `no route ${url.pathname}` });
    if (decodeURIComponent(m[1]) !== this.member) {
      return this.send(res, 403, { type: "error", error_code: 403, error: `not member ${m[1]}` });
    }
    const body = req.method === "POST" ? JSON.parse((await readBody(req)) || "{}") : undefined;
    if (m[2] === "heartbeat" && req.method === "POST") {
      this.heartbeats.push(body as HeartbeatBody);
      return this.ok(res, { status: "Online", message: "Fully operational", offline_threshold: this.offlineThreshold, heartbeat_interval: this.heartbeatInterval });
    }
    if (m[2] === "desired" && req.method === "GET") {
      const since = url.searchParams.get("since");
      const wait = url.searchParams.get("wait");
      this.polls.push({ since, wait });
      if (since !== null && Number(since) === this.revision) {
        const waitS = Math.min(60, Number(wait ?? 0));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, waitS * 1000);
          this.waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return this.ok(res, { revision: this.revision, instances: this.instances, requests: this.requests });
    }
    if (m[3] && req.method === "POST") {
      const id = decodeURIComponent(m[3]);
      this.answers.set(id, body as { log: string });
      this.requests = this.requests.filter((r) => r.id !== id);
      this.bump();
      return this.ok(res, {});
    }
    return this.send(res, 405, { type: "error", error_code: 405, error: "method not allowed" });
  }

  private ok(res: ServerResponse, metadata: unknown): void {
    this.send(res, 200, { type: "sync", status: "Success", status_code: 200, metadata });
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/** A desired instance with the given config. */
export function desiredInstance(name: string, desired: "Running" | "Stopped", config: Record<string, string> = {}, project = "default"): DesiredInstance {
  return { project, name, type: "container", config, devices: {}, profiles: ["default"], description: "", desired };
}
