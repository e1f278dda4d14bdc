/** Reading and validating request input at the edge: JSON bodies, query parameters, path names. */
import type { Context } from "hono";
import { z } from "zod";
import { badRequest, BerthError } from "../domain/errors.ts";

export const MAX_BODY_BYTES = 1024 * 1024;

/** Turns a zod issue list into one message naming the field and what was wrong. */
export function describeZodError(error: z.ZodError, root = "body"): string {
  const parts = error.issues.slice(0, 3).map((issue) => {
    const path = issue.path.length ? issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "") : root;
    if (issue.code === "unrecognized_keys") {
      const keys = (issue as { keys: string[] }).keys.map((k) => JSON.stringify(k)).join(", ");
      return `${issue.path.length ? path : root}: unknown field(s) ${keys}`;
    }
    return `${path}: ${issue.message}`;
  });
  return `Invalid request: ${parts.join("; ")}`;
}

/** Parses the JSON body against the schema; 400 for malformed JSON or a wrong shape, 413 when too big. */
export async function readBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  return parseBody(await readText(c), schema);
}

/** A body's text checked against the schema: 400 for malformed JSON or a wrong shape (an empty body is {}). */
export function parseBody<S extends z.ZodType>(text: string, schema: S): z.infer<S> {
  let raw: unknown;
  if (text.trim() === "") raw = {};
  else {
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw badRequest(`Malformed JSON body: ${(err as Error).message}`);
    }
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw badRequest(describeZodError(parsed.error));
  return parsed.data;
}

async function readText(c: Context): Promise<string> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw new BerthError(413, `Request body too large (${declared} bytes, at most ${MAX_BODY_BYTES})`);
  const buffer = await c.req.arrayBuffer();
  if (buffer.byteLength > MAX_BODY_BYTES) {
    throw new BerthError(413, `Request body too large (${buffer.byteLength} bytes, at most ${MAX_BODY_BYTES})`);
  }
  return new TextDecoder().decode(buffer);
}

export function queryBool(c: Context, name: string): boolean {
  const value = c.req.query(name);
  if (value === undefined || value === "" || value === "false" || value === "0") return false;
  if (value === "true" || value === "1") return true;
  throw badRequest(`Query parameter ${name} must be true or false, got ${JSON.stringify(value)}`);
}

export function queryInt(c: Context, name: string, fallback: number, min: number, max: number): number {
  const value = c.req.query(name);
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw badRequest(`Query parameter ${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** ?recursion=0|1|2 as LXD: 0 lists URLs, 1 and up returns objects. */
export function recursion(c: Context): number {
  return queryInt(c, "recursion", 0, 0, 2);
}

// ---- shared schema pieces ---------------------------------------------------------------------

export const stringMap = z.record(z.string().max(256), z.string().max(64 * 1024));
export const devicesSchema = z.record(z.string().max(64), z.record(z.string().max(256), z.string().max(4096)));
export const nameList = z.array(z.string().max(64)).max(1000);
