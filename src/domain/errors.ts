/** The one error type a user sees: an HTTP status and a message naming the thing and the value. */
export class BerthError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "BerthError";
  }
}

export const badRequest = (message: string, details?: unknown) => new BerthError(400, message, details);
export const unauthorized = (message = "Missing or invalid bearer token") => new BerthError(401, message);
export const forbidden = (message: string) => new BerthError(403, message);
export const notFound = (message: string) => new BerthError(404, message);
export const conflict = (message: string, details?: unknown) => new BerthError(409, message, details);

/** Normalises anything thrown into an Error, keeping the original as cause. */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(typeof thrown === "string" ? thrown : JSON.stringify(thrown), { cause: thrown });
}
