/**
 * The CLI's HTTP client of the Berth API: where to connect, the bearer token, the LXD-style
 * envelope, waiting for async operations and reading the event stream.
 */
import { existsSync, readFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { join } from "node:path";
import { normalizeFingerprint } from "../domain/fingerprint.ts";
import type { Operation } from "../domain/types.ts";
import { CERT_FILE, certificateFingerprint } from "../net/certificate.ts";
import { neverArrived, splitAddresses } from "../net/failover.ts";
import { CertificateMismatchError, pinnedRequest, PlainHttpRefusedError, readResponseText } from "../net/pinned.ts";

export const DEFAULT_URL = "http://127.0.0.1:8443";

/** An error the CLI reports as `Error: <message>` and exit code 1. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CliError";
  }
}

export interface Connection {
  /** The address in use: the first of `urls`, or the one a request last reached. */
  url: string;
  /**
   * Every address to try, in order (BERTH_URL and --url may list several, comma-separated: the
   * replicas of one service). A request that cannot reach one goes to the next.
   */
  urls?: string[];
  /** Absent when no token was found anywhere; the server then answers 401. */
  token?: string;
  /** Where the token came from, for error messages. */
  tokenSource: string;
  /** The SHA-256 fingerprint an https:// service's certificate must have; null: the usual CA check. */
  fingerprint?: string | null;
  /** Where the fingerprint came from, for error messages. */
  fingerprintSource?: string;
}

/**
 * --url / --token / --fingerprint first, then BERTH_URL / BERTH_TOKEN / BERTH_FINGERPRINT, then
 * the defaults: the local service, the admin token `berth serve` wrote to <BERTH_DATA or
 * ./data>/admin.token and, for an https:// URL, the fingerprint of <data>/server.crt.
 */
export function resolveConnection(opts: { url?: string; token?: string; fingerprint?: string }, env: NodeJS.ProcessEnv = process.env): Connection {
  const given = opts.url || env.BERTH_URL || DEFAULT_URL;
  const urls = splitAddresses(given);
  if (urls.length === 0) throw new CliError(`${opts.url ? "--url" : "BERTH_URL"} names no address: ${JSON.stringify(given)}`);
  const url = urls[0];
  const dataDir = env.BERTH_DATA || "./data";
  const pin = resolveFingerprint(url, opts.fingerprint, env, dataDir);
  if (opts.token) return { url, urls, token: opts.token, tokenSource: "--token", ...pin };
  if (env.BERTH_TOKEN) return { url, urls, token: env.BERTH_TOKEN, tokenSource: "BERTH_TOKEN", ...pin };
  const file = join(dataDir, "admin.token");
  try {
    const token = readFileSync(file, "utf8").trim();
    if (token) return { url, urls, token, tokenSource: file, ...pin };
  } catch {
    // No token file: requests go out without a token and the server says 401.
  }
  return { url, urls, tokenSource: `none (no --token, no BERTH_TOKEN, no ${file})`, ...pin };
}

function resolveFingerprint(url: string, flag: string | undefined, env: NodeJS.ProcessEnv, dataDir: string): Pick<Connection, "fingerprint" | "fingerprintSource"> {
  const given: [string, string] | null = flag ? [flag, "--fingerprint"] : env.BERTH_FINGERPRINT ? [env.BERTH_FINGERPRINT, "BERTH_FINGERPRINT"] : null;
  if (given) {
    const fingerprint = normalizeFingerprint(given[0]);
    if (!fingerprint) throw new CliError(`${given[1]} must be a SHA-256 certificate fingerprint (64 hex digits, colons allowed), got ${JSON.stringify(given[0])}`);
    return { fingerprint, fingerprintSource: given[1] };
  }
  // Beside the admin token, `berth serve` left its certificate: the local service's own.
  const certFile = join(dataDir, CERT_FILE);
  if (url.startsWith("https:") && existsSync(certFile)) {
    try {
      return { fingerprint: certificateFingerprint(readFileSync(certFile)), fingerprintSource: certFile };
    } catch {
      // Not a certificate: no pin, and the usual CA check says what is wrong.
    }
  }
  return { fingerprint: null };
}

interface Envelope {
  type?: string;
  status_code?: number;
  error_code?: number;
  error?: string;
  operation?: string;
  metadata?: unknown;
}

export interface Query {
  [key: string]: string | number | boolean | undefined;
}

const FINAL_STATUSES = new Set(["Success", "Failure", "Cancelled"]);

export class BerthClient {
  /** The Berth-Notice header of the last answer (what a change had to say, e.g. a scriptlet's trial placement), decoded. */
  lastNotice: string | null = null;

  constructor(readonly connection: Connection) {}

  get<T = unknown>(path: string, query?: Query): Promise<T> {
    return this.request<T>("GET", path, { query });
  }
  post<T = unknown>(path: string, body: unknown, query?: Query): Promise<T> {
    return this.request<T>("POST", path, { body, query });
  }
  put<T = unknown>(path: string, body: unknown, query?: Query): Promise<T> {
    return this.request<T>("PUT", path, { body, query });
  }
  patch<T = unknown>(path: string, body: unknown, query?: Query): Promise<T> {
    return this.request<T>("PATCH", path, { body, query });
  }
  delete<T = unknown>(path: string, query?: Query): Promise<T> {
    return this.request<T>("DELETE", path, { query });
  }

  /** Sends a request and returns the envelope's metadata (an async envelope's metadata is its operation). */
  async request<T = unknown>(method: string, path: string, opts: { body?: unknown; query?: Query } = {}): Promise<T> {
    const envelope = await this.send(method, path, opts);
    return envelope.metadata as T;
  }

  /** Sends a request that starts an async operation, then waits for it; a failed operation is an error. */
  async runOperation(method: string, path: string, opts: { body?: unknown; query?: Query } = {}): Promise<Operation> {
    const op = await this.waitOperation(await this.startOperation(method, path, opts));
    throwIfUnsuccessful(op);
    return op;
  }

  /** Sends a request that starts an async operation; returns the operation's id without waiting. */
  async startOperation(method: string, path: string, opts: { body?: unknown; query?: Query } = {}): Promise<string> {
    const envelope = await this.send(method, path, opts);
    if (envelope.type !== "async" || !envelope.operation) {
      throw new CliError(`Expected an async operation from ${method} ${path}, got a ${envelope.type ?? "malformed"} response`);
    }
    return operationId(envelope.operation);
  }

  /** Waits until the operation is final (timeoutS < 0: no limit); returns it as it then stands. */
  async waitOperation(id: string, timeoutS = -1): Promise<Operation> {
    const deadline = timeoutS < 0 ? Infinity : Date.now() + timeoutS * 1000;
    for (;;) {
      const left = deadline === Infinity ? 30 : Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
      const op = await this.get<Operation>(`/1.0/operations/${encodeURIComponent(id)}/wait`, { timeout: Math.min(left, 30) });
      if (FINAL_STATUSES.has(op.status) || Date.now() >= deadline) return op;
    }
  }

  /** Reads /1.0/events until the signal aborts, calling onEvent for each (the `ready` event included). */
  async streamEvents(types: string | undefined, onEvent: (name: string, data: string) => void, signal: AbortSignal): Promise<void> {
    const response = await this.fetch("GET", "/1.0/events", { query: { type: types }, accept: "text/event-stream" }, signal);
    if (!isOk(response)) throw await this.errorFrom(response);
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of response as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n/g, "\n");
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const parsed = parseSseBlock(block);
          if (parsed) onEvent(parsed.name, parsed.data);
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      throw new CliError(`The event stream from ${this.connection.url} broke: ${(err as Error).message}`, 1, { cause: err });
    }
    if (!signal.aborted) throw new CliError(`The Berth service at ${this.connection.url} closed the event stream`);
  }

  private async send(method: string, path: string, opts: { body?: unknown; query?: Query }): Promise<Envelope> {
    const response = await this.fetch(method, path, opts);
    if (!isOk(response)) throw await this.errorFrom(response);
    const notice = response.headers["berth-notice"];
    this.lastNotice = typeof notice === "string" ? decodeURIComponent(notice) : null;
    const envelope = await readEnvelope(response);
    if (!envelope) throw new CliError(`Unexpected response from ${this.connection.url}${path}: HTTP ${response.statusCode} without a Berth envelope`);
    return envelope;
  }

  /**
   * One request through node:http(s) rather than fetch: fetch's machinery (undici and its WASM
   * parser) costs 100-300 ms to load, more than the rest of a CLI call. An https:// service is
   * trusted by its pinned fingerprint (src/net/pinned.ts). Resolves with the response once its
   * headers arrive; its body is read by the caller.
   */
  private async fetch(method: string, path: string, opts: { body?: unknown; query?: Query; accept?: string }, signal?: AbortSignal): Promise<IncomingMessage> {
    const headers: Record<string, string | number> = { accept: opts.accept ?? "application/json" };
    if (this.connection.token) headers.authorization = `Bearer ${this.connection.token}`;
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    if (body !== undefined) headers["content-type"] = "application/json";
    // The address that answered last first, then the others in order.
    const urls = this.connection.urls ?? [this.connection.url];
    const order = [this.connection.url, ...urls.filter((u) => u !== this.connection.url)];
    const tried: string[] = [];
    for (const url of order) {
      tried.push(url);
      try {
        const response = await pinnedRequest(url, this.connection.fingerprint ?? null, { method, path, query: opts.query, headers, body, signal });
        this.connection.url = url;
        return response;
      } catch (err) {
        if (signal?.aborted) throw this.connectionError({ message: "This operation was aborted" }, tried);
        if (!neverArrived(err, method) || tried.length === order.length) throw this.connectionError(err, tried);
      }
    }
    throw new Error("unreachable");
  }

  /** The error the user sees when the request did not get an answer; err is the socket's (or TLS's) error. */
  private connectionError(err: unknown, tried: string[] = [this.connection.url]): CliError {
    const { code = "", message = String(err) } = err as { code?: string; message?: string };
    const where = tried.join(", ");
    if (err instanceof CertificateMismatchError) {
      return new CliError(
        `Refusing to connect to ${where}: its certificate has fingerprint ${err.actual}, but ${this.connection.fingerprintSource ?? "--fingerprint"} pins ${err.expected}. ` +
          `Another server answers there, or the service's certificate was replaced (GET /1.0 shows environment.certificate_fingerprint).`,
        1, { cause: err },
      );
    }
    if (err instanceof PlainHttpRefusedError) return new CliError(err.message, 1, { cause: err });
    if (/SELF_SIGNED|UNABLE_TO_VERIFY|CERT_/.test(code)) {
      return new CliError(
        `Cannot verify the certificate of ${where} (${code}): a Berth service's own certificate is self-signed, so pin it with --fingerprint SHA256 ` +
          `or BERTH_FINGERPRINT (\`berth serve\` logs it; GET /1.0 shows it as environment.certificate_fingerprint).`,
        1, { cause: err },
      );
    }
    if (code === "ECONNREFUSED") {
      return new CliError(
        `Cannot connect to the Berth service at ${where}: connection refused. Is "berth serve" running there? Set BERTH_URL or --url to use another address.`,
        1, { cause: err },
      );
    }
    const hint = where.startsWith("http:") && (code === "ECONNRESET" || /socket hang up/.test(message))
      ? " (a Berth service serves HTTPS on addresses other than loopback: use https:// and --fingerprint)" : "";
    return new CliError(`Cannot connect to the Berth service at ${where}: ${message}${code && !message.includes(code) ? ` (${code})` : ""}${hint}`, 1, { cause: err });
  }

  private async errorFrom(response: IncomingMessage): Promise<CliError> {
    const envelope = await readEnvelope(response);
    let message = envelope?.error || `HTTP ${response.statusCode} ${response.statusMessage ?? ""} from ${this.connection.url}`;
    if (response.statusCode === 401 && !this.connection.token) {
      message += ` (no token: set BERTH_TOKEN or --token, or run where data/admin.token is; tried ${this.connection.tokenSource})`;
    }
    return new CliError(message);
  }
}

export function isFinal(status: string): boolean {
  return FINAL_STATUSES.has(status);
}

/** A failed or cancelled operation as the CliError the user sees (its err, as the server put it). */
export function throwIfUnsuccessful(op: Operation): void {
  if (op.status === "Failure") throw new CliError(op.err || `Operation ${op.id} failed`);
  if (op.status === "Cancelled") throw new CliError(`Operation ${op.id} was cancelled${op.err ? `: ${op.err}` : ""}`);
}

function isOk(response: IncomingMessage): boolean {
  const status = response.statusCode ?? 0;
  return status >= 200 && status < 300;
}

async function readEnvelope(response: IncomingMessage): Promise<Envelope | null> {
  const text = await readResponseText(response);
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === "object" && "type" in parsed ? (parsed as Envelope) : null;
  } catch {
    return null;
  }
}

/** "/1.0/operations/<id>" → "<id>". */
export function operationId(operationUrl: string): string {
  return decodeURIComponent(operationUrl.replace(/^.*\/1\.0\/operations\//, "").replace(/[/?].*$/, ""));
}

/** One SSE block ("event: x\ndata: y") → name and data; comments (keepalives) → null. */
export function parseSseBlock(block: string): { name: string; data: string } | null {
  let name = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") name = value;
    else if (field === "data") data.push(value);
  }
  return data.length === 0 && name === "message" ? null : { name, data: data.join("\n") };
}
