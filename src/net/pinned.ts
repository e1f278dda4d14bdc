/**
 * HTTP requests to a Berth service that trust one certificate: the one whose SHA-256 fingerprint
 * the caller pins (from --fingerprint, BERTH_FINGERPRINT or a join token). The service's
 * certificate is self-signed, so certificate authorities cannot vouch for it; the fingerprint
 * does instead. Used by the CLI (src/cli/client.ts) and by `berth agent`.
 *
 *   const res = await pinnedRequest("https://10.0.0.5:8443", fingerprint, {
 *     method: "POST", path: "/1.0/cluster/join", body: { secret },
 *   });
 *   const text = await readResponseText(res);            // or stream res (events, long-polls)
 *
 * or, for a whole body at once: `const { status, text } = await pinnedRequestText(url, fp, opts)`.
 *
 * How the pin is kept: the connection is made by PinnedAgent.createConnection, which completes the
 * TLS handshake (without the usual CA check), compares the server certificate's fingerprint with
 * the pinned one, and only then hands the socket to the request. On a mismatch the socket is
 * destroyed before a single byte of the request (its bearer token, a join secret) is written, and
 * the request fails with CertificateMismatchError naming both fingerprints.
 *
 * - fingerprint null and an https:// URL: the ordinary CA check of node:https (for a service run
 *   with --tls-cert/--tls-key from a real authority). A self-signed service then fails with
 *   node's error (code DEPTH_ZERO_SELF_SIGNED_CERT or SELF_SIGNED_CERT_IN_CHAIN).
 * - http:// URLs: plain HTTP, which the service serves only on loopback. With a fingerprint given,
 *   plain HTTP to a non-loopback host is refused (PlainHttpRefusedError): the pin would mean
 *   nothing there.
 * - Connections are kept alive per fingerprint (one agent each), so a process that polls pays the
 *   handshake once; idle sockets do not keep the process alive.
 */
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { Agent as HttpsAgent } from "node:https";
import type { Duplex } from "node:stream";
import type { ConnectionOptions, TLSSocket } from "node:tls";
import { isLoopbackHost } from "../domain/addresses.ts";
import { normalizeFingerprint } from "../domain/fingerprint.ts";

export interface PinnedRequestOptions {
  /** Default GET. */
  method?: string;
  /** Appended to the URL's path ("/1.0/cluster/members/n1/heartbeat"); may carry a query string. */
  path?: string;
  /** Query parameters added to the URL; undefined and "" values are left out. */
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string | number>;
  /** A string or bytes are sent as they are; anything else as JSON (content-type set unless given). */
  body?: unknown;
  signal?: AbortSignal;
  /** Fail when the server sends nothing for this long (ms); default: no limit (long-polls set their own). */
  timeoutMs?: number;
}

/** The server's certificate is not the pinned one: nothing was sent. */
export class CertificateMismatchError extends Error {
  readonly code = "BERTH_CERTIFICATE_MISMATCH";
  constructor(readonly url: string, readonly expected: string, readonly actual: string) {
    super(`The certificate of ${url} has fingerprint ${actual}, but ${expected} is pinned: refusing to connect (another server, or the service's certificate was replaced)`);
    this.name = "CertificateMismatchError";
  }
}

/** A pinned request to a plain-HTTP, non-loopback URL: refused before connecting. */
export class PlainHttpRefusedError extends Error {
  readonly code = "BERTH_PLAIN_HTTP_REFUSED";
  constructor(readonly url: string) {
    super(`Refusing plain HTTP to ${url}: a Berth service serves plain HTTP only on loopback; use its https:// address`);
    this.name = "PlainHttpRefusedError";
  }
}

/** The TLS handshake must finish within this time (a server that accepts and says nothing). */
const HANDSHAKE_TIMEOUT_MS = 30_000;

type NodeHttps = typeof import("node:https");
let modules: Promise<{ http: typeof import("node:http"); https: NodeHttps; tls: typeof import("node:tls"); crypto: typeof import("node:crypto") }> | null = null;
/** node:https and friends, loaded on first use: a CLI call that talks plain HTTP does not pay for TLS. */
function load() {
  modules ??= Promise.all([import("node:http"), import("node:https"), import("node:tls"), import("node:crypto")])
    .then(([http, https, tls, crypto]) => ({ http, https, tls, crypto }));
  return modules;
}

const agents = new Map<string, HttpsAgent>();

/** The keep-alive agent whose connections present the certificate `fingerprint` names. */
async function pinnedAgent(fingerprint: string): Promise<HttpsAgent> {
  const existing = agents.get(fingerprint);
  if (existing) return existing;
  const { https, tls, crypto } = await load();
  class PinnedAgent extends https.Agent {
    override createConnection(options: ConnectionOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
      const done = onceCallback(callback);
      const socket: TLSSocket = tls.connect({ ...options, rejectUnauthorized: false });
      socket.setTimeout(HANDSHAKE_TIMEOUT_MS, () => socket.destroy(new Error(`The TLS handshake with ${describeTarget(options)} did not finish within ${HANDSHAKE_TIMEOUT_MS / 1000}s`)));
      socket.once("error", (err) => done(err, socket));
      socket.once("secureConnect", () => {
        socket.setTimeout(0);
        const raw = socket.getPeerCertificate(true)?.raw;
        const actual = raw ? crypto.createHash("sha256").update(raw).digest("hex") : "(no certificate)";
        if (actual === fingerprint) return done(null, socket);
        const error = new CertificateMismatchError(`https://${describeTarget(options)}`, fingerprint, actual);
        socket.destroy();
        done(error, socket);
      });
      return undefined; // handed over through the callback, once checked
    }
  }
  // maxCachedSessions 0: every new connection shows its certificate (no resumed session without one).
  const agent = new PinnedAgent({ keepAlive: true, maxCachedSessions: 0 });
  agents.set(fingerprint, agent);
  return agent;
}

function onceCallback(callback?: (err: Error | null, stream: Duplex) => void): (err: Error | null, stream: Duplex) => void {
  let called = false;
  return (err, stream) => {
    if (called) return;
    called = true;
    callback?.(err, stream);
  };
}

function describeTarget(options: ConnectionOptions): string {
  const host = String(options.host ?? "localhost");
  return `${host.includes(":") ? `[${host}]` : host}:${options.port ?? 443}`;
}

/**
 * Sends one request to `url` + `opts.path` and resolves with the response once its headers arrive
 * (any status: the caller reads `statusCode` and the body, or streams it). `fingerprint` pins the
 * server's certificate (any form normalizeFingerprint reads; null: the ordinary CA check). Rejects
 * with CertificateMismatchError, PlainHttpRefusedError, or the socket's error (code ECONNREFUSED,
 * ETIMEDOUT, ...).
 */
export async function pinnedRequest(url: string, fingerprint: string | null, opts: PinnedRequestOptions = {}): Promise<IncomingMessage> {
  const pin = fingerprint === null ? null : normalizeFingerprint(fingerprint);
  if (fingerprint !== null && pin === null) {
    throw new Error(`${JSON.stringify(fingerprint)} is not a SHA-256 certificate fingerprint (64 hex digits, colons allowed)`);
  }
  const target = new URL(url.replace(/\/+$/, "") + (opts.path ?? ""));
  for (const [key, value] of Object.entries(opts.query ?? {})) {
    if (value !== undefined && value !== "") target.searchParams.set(key, String(value));
  }
  if (target.protocol !== "http:" && target.protocol !== "https:") {
    throw new Error(`${url} is not an http:// or https:// URL`);
  }
  if (target.protocol === "http:" && pin !== null && !isLoopbackHost(target.hostname)) throw new PlainHttpRefusedError(target.origin);

  const headers: Record<string, string | number> = { ...opts.headers };
  let body: Buffer | undefined;
  if (opts.body !== undefined) {
    if (typeof opts.body === "string" || opts.body instanceof Uint8Array) {
      body = Buffer.from(opts.body as string | Uint8Array);
    } else {
      body = Buffer.from(JSON.stringify(opts.body));
      if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["content-type"] = "application/json";
    }
    headers["content-length"] = body.length;
  }

  const { http, https } = await load();
  const agent = target.protocol === "https:" && pin !== null ? await pinnedAgent(pin) : undefined;
  const request = target.protocol === "https:" ? https.request : http.request;
  const send = (mayRetry: boolean) => new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(target, { method: opts.method ?? "GET", headers, signal: opts.signal, agent }, resolve);
    req.once("error", (err: NodeJS.ErrnoException) => {
      // A kept-alive connection the server closed (its idle timeout) just as this request went out
      // on it: the request was never read. Once more, on a new connection (as Node's documentation
      // advises for reusedSocket); any other failure is the caller's.
      if (mayRetry && req.reusedSocket && err.code === "ECONNRESET" && !opts.signal?.aborted) resolve(send(false));
      else reject(err);
    });
    if (opts.timeoutMs !== undefined) {
      req.setTimeout(opts.timeoutMs, () => req.destroy(Object.assign(new Error(`No answer from ${target.origin} within ${opts.timeoutMs} ms`), { code: "ETIMEDOUT" })));
    }
    req.end(body);
  });
  return send(true);
}

/** The whole body of a response as UTF-8 text. */
export async function readResponseText(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response as AsyncIterable<Buffer>) chunks.push(chunk);
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/** pinnedRequest, then the whole body: for request/response calls (heartbeats, the join exchange, long-polls). */
export async function pinnedRequestText(
  url: string, fingerprint: string | null, opts: PinnedRequestOptions = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  const response = await pinnedRequest(url, fingerprint, opts);
  return { status: response.statusCode ?? 0, headers: response.headers, text: await readResponseText(response) };
}
