/**
 * 405 for a method a path does not have (`PUT /1.0/instances`), as LXD answers, instead of the 404
 * of an unknown path: the methods the routes registered for a path, read from the app's routes.
 */
import type { Hono } from "hono";

const ROUTE_METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE"]);

/** "/1.0/instances/:name" → a regex for the path it stands for (":x" is one segment, "*" the rest). */
function pattern(path: string): RegExp {
  const parts = path.split("/").map((part) => (part.startsWith(":") ? "[^/]+" : part === "*" ? ".*" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  return new RegExp(`^${parts.join("/")}/?$`);
}

/** Answers, for a path, the methods some route serves there (sorted; empty when none does). */
export function methodIndex(app: Hono<any>): (path: string) => string[] {
  let routes: { method: string; test: RegExp }[] | null = null;
  return (path) => {
    // Built on first use, once every module has added its routes.
    routes ??= app.routes.filter((r) => ROUTE_METHODS.has(r.method) && !r.path.includes("*")).map((r) => ({ method: r.method, test: pattern(r.path) }));
    return [...new Set(routes.filter((r) => r.test.test(path)).map((r) => r.method))].sort();
  };
}
