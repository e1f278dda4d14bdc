/** Names of members, groups, pools, projects and instances: what a URL path segment can hold safely. */
import { badRequest } from "./errors.ts";

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Throws a 400 naming the field and value unless the name is 1–63 letters, digits, ".", "_" or "-". */
export function checkName(field: string, value: unknown): string {
  if (typeof value !== "string" || !NAME_RE.test(value) || value === "." || value === "..") {
    const shown = typeof value === "string" ? JSON.stringify(value.slice(0, 80)) : String(value);
    throw badRequest(
      `${field} ${shown} is not a valid name: use 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
  return value;
}

export function isValidName(value: string): boolean {
  return NAME_RE.test(value);
}
