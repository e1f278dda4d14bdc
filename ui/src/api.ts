/** The HTTP API as the dashboard calls it: the bearer token on every request, the envelope unwrapped. */
import type { Operation } from "../../src/domain/types.ts";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The error envelope's metadata (a scriptlet error's {line, column}, ...). */
    readonly details: unknown = null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

interface Envelope<T> {
  type: "sync" | "async" | "error";
  metadata: T;
  error?: string;
  error_code?: number;
}

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export class Api {
  constructor(
    readonly token: string,
    /** Called when the service refuses the token (revoked meanwhile): the dashboard signs out. */
    private readonly onUnauthorized: (message: string) => void = () => {},
  ) {}

  get headers(): Record<string, string> {
    return { Authorization: `Bearer ${this.token}` };
  }

  async call<T>(method: Method, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers: { ...this.headers, Accept: "application/json", ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
        credentials: "omit",
      });
    } catch (err) {
      throw new ApiError(0, `Cannot reach the Berth service (${err instanceof Error ? err.message : String(err)})`);
    }
    let envelope: Envelope<T>;
    try {
      envelope = (await response.json()) as Envelope<T>;
    } catch {
      throw new ApiError(response.status, `The service answered ${method} ${path} with HTTP ${response.status} and no JSON`);
    }
    if (envelope.type === "error" || !response.ok) {
      const message = envelope.error || `HTTP ${response.status}`;
      if (response.status === 401) this.onUnauthorized(message);
      throw new ApiError(response.status, message, envelope.metadata ?? null);
    }
    return envelope.metadata;
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>("GET", path);
  }

  /** An async call (202): the operation it started. */
  operation(method: Method, path: string, body?: unknown): Promise<Operation> {
    return this.call<Operation>(method, path, body);
  }
}

/** "?project=x" for a project other than default (the API's default). */
export function projectQuery(project: string, extra: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  if (project !== "default") params.set("project", project);
  for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== "") params.set(k, v);
  const text = params.toString();
  return text ? `?${text}` : "";
}
