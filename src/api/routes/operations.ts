/** /1.0/operations[/{id}[/wait]] */
import type { Hono } from "hono";
import { toApiOperation } from "../../operations/manager.ts";
import { sync } from "../envelope.ts";
import type { Services } from "../services.ts";
import { queryInt, recursion } from "../validation.ts";
import type { AuthEnv } from "../auth.ts";

export function operationRoutes(app: Hono<AuthEnv>, s: Services): void {
  app.get("/1.0/operations", async (c) => {
    const ops = (await s.operations.list()).map(toApiOperation);
    if (recursion(c) > 0) return sync(c, ops);
    // LXD groups operation URLs by status.
    const byStatus: Record<string, string[]> = {};
    for (const op of ops) (byStatus[op.status.toLowerCase()] ??= []).push(`/1.0/operations/${op.id}`);
    return sync(c, byStatus);
  });
  app.get("/1.0/operations/:id", async (c) => sync(c, toApiOperation(await s.operations.get(c.req.param("id")))));
  app.get("/1.0/operations/:id/wait", async (c) => {
    const timeout = queryInt(c, "timeout", -1, -1, 86_400);
    return sync(c, toApiOperation(await s.operations.wait(c.req.param("id"), timeout)));
  });
  app.delete("/1.0/operations/:id", async (c) => sync(c, toApiOperation(await s.operations.cancel(c.req.param("id")))));
}
