/** The LXD-style response envelope, and the one place errors become HTTP responses. */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { BerthError } from "../domain/errors.ts";
import type { Operation } from "../domain/types.ts";

/** A value that is not a promise: a route must await a service before it answers. */
type Settled<T> = T extends PromiseLike<unknown> ? never : T;

export function sync<T>(c: Context, metadata: Settled<T>, status: ContentfulStatusCode = 200) {
  return c.json({ type: "sync", status: "Success", status_code: status, operation: "", error_code: 0, error: "", metadata }, status);
}

export function async(c: Context, op: Operation) {
  const url = `/1.0/operations/${op.id}`;
  c.header("Location", url);
  return c.json(
    { type: "async", status: "Operation created", status_code: 100, operation: url, error_code: 0, error: "", metadata: op },
    202,
  );
}

export function errorBody(status: number, message: string, metadata: unknown = null) {
  return { type: "error", status: "", status_code: 0, operation: "", error_code: status, error: message, metadata };
}

/** Maps anything thrown by a route to the error envelope; unknown errors are 500s and are logged. */
export function errorResponse(c: Context, err: unknown, log: (err: unknown) => void) {
  if (err instanceof BerthError) {
    return c.json(errorBody(err.status, err.message, err.details ?? null), err.status as ContentfulStatusCode);
  }
  log(err);
  return c.json(errorBody(500, "Internal error; see the service log"), 500);
}
