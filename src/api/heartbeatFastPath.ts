/**
 * Agents' heartbeats straight off node:http, without hono: a thousand agents send a thousand a
 * second, and hono's request and response objects, its middleware chain and the route lookup cost
 * more than the heartbeat itself (bench agent-heartbeats, docs/agents.md).
 *
 * Only the plain case is taken: POST /1.0/cluster/members/{name}/heartbeat, a name that needs no
 * decoding, no query, a bearer token that may heartbeat as that member (admin, or the member's own
 * agent), a JSON body of declared length within the cap. Everything else — a missing, unknown or
 * forbidden token included — goes to hono, which answers it as before; so does the heartbeat's
 * meaning (answerHeartbeat, parseBody, errorBody and the metrics are the ones the route uses).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { BerthError } from "../domain/errors.ts";
import { errorBody } from "./envelope.ts";
import { answerHeartbeat } from "./heartbeat.ts";
import type { Metrics } from "./metrics.ts";
import { heartbeatSchema } from "./schemas.ts";
import type { Services } from "./services.ts";
import { MAX_BODY_BYTES, parseBody } from "./validation.ts";

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** Takes the request (true) or leaves it to `fallback`, the hono listener (false). */
export type FastPath = (req: IncomingMessage, res: ServerResponse, fallback: Listener) => boolean;

const HEARTBEAT = /^\/1\.0\/cluster\/members\/([A-Za-z0-9_.-]+)\/heartbeat$/;
const BEARER = /^Bearer\s+(\S+)\s*$/i;
const ROUTE = "/1.0/cluster/members/:name/heartbeat";

export function heartbeatFastPath(s: Services, metrics: Pick<Metrics, "observe">): FastPath {
  return (req, res, fallback) => {
    if (req.method !== "POST") return false;
    const path = HEARTBEAT.exec(req.url ?? "");
    const bearer = BEARER.exec(req.headers.authorization ?? "");
    const type = req.headers["content-type"];
    const length = Number(req.headers["content-length"]);
    if (!path || !bearer || (type !== undefined && !/^application\/json\b/i.test(type))) return false;
    if (req.headers["transfer-encoding"] !== undefined || !Number.isInteger(length) || length > MAX_BODY_BYTES) return false;
    const started = performance.now();
    const name = path[1];
    const answer = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      res.end(text);
      metrics.observe("POST", ROUTE, status, (performance.now() - started) / 1000);
    };
    const fail = (err: unknown) => {
      if (res.destroyed) return; // the client went away mid-request: nobody to answer
      if (err instanceof BerthError) return answer(err.status, errorBody(err.status, err.message, err.details ?? null));
      s.logger.error({ err }, "request failed");
      answer(500, errorBody(500, "Internal error; see the service log"));
    };
    const serve = async () => {
      const token = await s.tokens.authenticate(bearer[1]);
      // hono says why a token may not do this (401, 403), exactly as for any other request.
      if (!token || (token.role !== "admin" && !(token.role === "agent" && token.member === name))) return fallback(req, res);
      const metadata = await answerHeartbeat(s, name, parseBody(await readText(req), heartbeatSchema));
      answer(200, { type: "sync", status: "Success", status_code: 200, operation: "", error_code: 0, error: "", metadata });
    };
    serve().catch(fail);
    return true;
  };
}

function readText(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.once("end", () => resolve(chunks.length === 1 ? chunks[0].toString("utf8") : Buffer.concat(chunks).toString("utf8")));
    req.once("error", reject);
  });
}
