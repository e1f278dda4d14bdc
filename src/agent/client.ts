/**
 * The agent's side of the HTTP API: heartbeats, the desired-state long-poll and answers, with the
 * member's credential, through a Transport (plain node:http(s) here; a certificate-pinning one can
 * be given instead).
 */
import type { Agent as HttpAgent, IncomingMessage } from "node:http";
import { neverArrived, splitAddresses } from "../net/failover.ts";
import type { AgentAnswer, AgentRequest, DesiredState, HeartbeatAnswer, HeartbeatBody } from "./protocol.ts";

export interface HttpRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: Buffer;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  body: string;
}

export type Transport = (request: HttpRequest) => Promise<HttpResponse>;

/** An error answer of the service (or none at all: status 0). */
export class ServiceError extends Error {
  constructor(message: string, readonly status: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ServiceError";
  }
}

/** node:http / node:https, with kept-alive connections (a heartbeat and a long-poll at a time). */
export function nodeTransport(): Transport {
  const agents = new Map<string, Promise<HttpAgent>>();
  const agentFor = (protocol: string) => {
    let agent = agents.get(protocol);
    if (!agent) {
      agent = protocol === "https:"
        ? import("node:https").then((m) => new m.Agent({ keepAlive: true }))
        : import("node:http").then((m) => new m.Agent({ keepAlive: true }));
      agents.set(protocol, agent);
    }
    return agent;
  };
  return async ({ method, url, headers, body, timeoutMs, signal }) => {
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new ServiceError(`${url.href}: the service URL must be http:// or https://`, 0);
    const { request } = url.protocol === "https:" ? await import("node:https") : await import("node:http");
    const agent = await agentFor(url.protocol);
    return new Promise<HttpResponse>((resolve, reject) => {
      const req = request(url, { method, headers, agent, signal, timeout: timeoutMs }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.once("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.once("error", reject);
      });
      req.once("timeout", () => req.destroy(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)));
      req.once("error", reject);
      req.end(body);
    });
  };
}

export interface ClientOptions {
  url: string;
  member: string;
  credential: string;
  transport: Transport;
}

export class AgentClient {
  /** The service's addresses (its replicas: `url` may list several, comma-separated); requests go to `current`. */
  private readonly bases: string[];
  private current = 0;

  constructor(private readonly opts: ClientOptions) {
    this.bases = splitAddresses(opts.url).map((u) => `${u}/1.0/cluster/members/${encodeURIComponent(opts.member)}`);
  }

  /** The address requests go to now. */
  get url(): string {
    return new URL(this.bases[this.current]).origin;
  }

  heartbeat(body: HeartbeatBody, signal?: AbortSignal): Promise<HeartbeatAnswer> {
    return this.call<HeartbeatAnswer>("POST", "/heartbeat", body, 30_000, signal);
  }

  /** The desired state; with since (the revision the agent has), the service may hold it up to waitS seconds. */
  desired(since: number | undefined, waitS: number, signal?: AbortSignal): Promise<DesiredState> {
    const query = since === undefined ? "" : `?since=${since}&wait=${waitS}`;
    return this.call<DesiredState>("GET", `/desired${query}`, undefined, (waitS + 30) * 1000, signal);
  }

  async answer(request: AgentRequest, answer: AgentAnswer, signal?: AbortSignal): Promise<void> {
    await this.call("POST", `/answers/${encodeURIComponent(request.id)}`, answer, 30_000, signal);
  }

  /**
   * One request. A connection refused goes to the next address at once; after any other failure
   * to get an answer the next request goes to the next address (the agent's loops try again).
   */
  private async call<T>(method: string, path: string, body: unknown, timeoutMs: number, signal?: AbortSignal): Promise<T> {
    for (let tried = 1; ; tried++) {
      try {
        return await this.callOnce<T>(this.bases[this.current], method, path, body, timeoutMs, signal);
      } catch (err) {
        if (!(err instanceof ServiceError) || err.status !== 0 || signal?.aborted) throw err;
        this.current = (this.current + 1) % this.bases.length;
        if (tried >= this.bases.length || !neverArrived(err.cause, method)) throw err;
      }
    }
  }

  private async callOnce<T>(base: string, method: string, path: string, body: unknown, timeoutMs: number, signal?: AbortSignal): Promise<T> {
    const url = new URL(base + path);
    const headers: Record<string, string> = { accept: "application/json", authorization: `Bearer ${this.opts.credential}` };
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    if (payload) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(payload.length);
    }
    const what = `${method} ${url.pathname}`;
    let response: HttpResponse;
    try {
      response = await this.opts.transport({ method, url, headers, body: payload, timeoutMs, signal });
    } catch (err) {
      const { code = "", message = String(err) } = err as { code?: string; message?: string };
      throw new ServiceError(`${what}: cannot reach the service at ${url.origin}: ${message}${code && !message.includes(code) ? ` (${code})` : ""}`, 0, { cause: err });
    }
    let envelope: { type?: string; error?: string; metadata?: unknown } | undefined;
    try {
      envelope = JSON.parse(response.body) as typeof envelope;
    } catch {
      envelope = undefined;
    }
    if (response.status < 200 || response.status >= 300) {
      throw new ServiceError(`${what}: HTTP ${response.status}: ${envelope?.error ?? response.body.slice(0, 200)}`, response.status);
    }
    if (!envelope || typeof envelope !== "object") throw new ServiceError(`${what}: the answer is not a Berth envelope: ${response.body.slice(0, 200)}`, response.status);
    return envelope.metadata as T;
  }
}
