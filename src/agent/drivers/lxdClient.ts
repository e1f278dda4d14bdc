/**
 * A small client of the local LXD daemon's REST API over its unix socket (the lxd driver's only
 * way to LXD). Sync answers give their metadata; async ones are operations, waited for with
 * `GET /1.0/operations/<id>/wait?timeout=S`.
 */
import { existsSync } from "node:fs";
import { request } from "node:http";

/** An error answer of LXD (status is the HTTP status; 0 when LXD did not answer at all). */
export class LxdError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

interface Envelope {
  type: "sync" | "async" | "error";
  status_code?: number;
  error_code?: number;
  error?: string;
  operation?: string;
  metadata?: unknown;
}

export interface LxdOperation {
  id: string;
  status: string;
  err: string;
  metadata: Record<string, unknown> | null;
}

/**
 * Where the local LXD listens: --lxd-socket, else LXD_SOCKET, else $LXD_DIR/unix.socket, else the
 * first of LXD's usual places that exists (snap, then the Debian package).
 */
export function defaultLxdSocket(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LXD_SOCKET) return env.LXD_SOCKET;
  if (env.LXD_DIR) return `${env.LXD_DIR}/unix.socket`;
  const usual = ["/var/snap/lxd/common/lxd/unix.socket", "/var/lib/lxd/unix.socket"];
  return usual.find((p) => existsSync(p)) ?? usual[1]!;
}

export class LxdClient {
  constructor(readonly socketPath: string) {}

  /** One request; resolves with the envelope (errors included) and the HTTP status. */
  raw(method: string, path: string, body?: unknown, timeoutMs = 60_000): Promise<{ status: number; envelope: Envelope }> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        { socketPath: this.socketPath, method, path, headers: payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {}, timeout: timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            try {
              resolve({ status: res.statusCode ?? 0, envelope: JSON.parse(text) as Envelope });
            } catch {
              reject(new LxdError(`LXD (${this.socketPath}) answered ${method} ${path} with something that is not JSON: ${text.slice(0, 200)}`, res.statusCode ?? 0));
            }
          });
          res.on("error", reject);
        },
      );
      req.once("timeout", () => req.destroy(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)));
      req.once("error", (err) => reject(new LxdError(`LXD at ${this.socketPath} cannot be reached (${method} ${path}): ${err.message}`, 0)));
      req.end(payload);
    });
  }

  /** A sync request: its metadata; throws an LxdError with LXD's message. */
  async get<T>(path: string): Promise<T> {
    return (await this.send("GET", path)) as T;
  }

  /** Any request: a sync answer's metadata, or an async one's operation (not waited for). */
  async send(method: string, path: string, body?: unknown): Promise<unknown> {
    const { status, envelope } = await this.raw(method, path, body);
    if (envelope.type === "error" || status >= 400) {
      throw new LxdError(`LXD refused ${method} ${path}: ${envelope.error || `HTTP ${status}`}`, envelope.error_code || status);
    }
    if (envelope.type === "async") return { operation: envelope.operation, ...(envelope.metadata as object) };
    return envelope.metadata;
  }

  /** An async request carried to its end: the finished operation; throws with LXD's error when it failed. */
  async run(method: string, path: string, body?: unknown, timeoutS = 600): Promise<LxdOperation> {
    const started = (await this.send(method, path, body)) as { operation?: string };
    if (!started?.operation) return started as unknown as LxdOperation; // answered synchronously
    return this.wait(started.operation, timeoutS, `${method} ${path}`);
  }

  /** Waits for an operation (its URL) to end; throws when it failed. */
  async wait(operation: string, timeoutS: number, what = operation): Promise<LxdOperation> {
    const at = operation.indexOf("?");
    const url = at < 0 ? `${operation}/wait?timeout=${timeoutS}` : `${operation.slice(0, at)}/wait${operation.slice(at)}&timeout=${timeoutS}`;
    const { status, envelope } = await this.raw("GET", url, undefined, (timeoutS + 30) * 1000);
    const op = envelope.metadata as LxdOperation | undefined;
    if (envelope.type === "error" || status >= 400 || !op) throw new LxdError(`LXD: ${what}: ${envelope.error || `HTTP ${status}`}`, envelope.error_code || status);
    if (op.status !== "Success") throw new LxdError(`LXD: ${what}: ${op.err || op.status}`, 500);
    return op;
  }
}
