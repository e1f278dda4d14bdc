/** /1.0/operations[/{id}[/wait]] */
import type { Hono } from "hono";
import type { Operation } from "../../domain/types.ts";
import type { OperationRecord } from "../../store/store.ts";
import { sync } from "../envelope.ts";
import { tokenOperation } from "./certificates.ts";
import type { Services } from "../services.ts";
import { queryInt, recursion } from "../validation.ts";
import type { AuthEnv } from "../auth.ts";

export function operationRoutes(app: Hono<AuthEnv>, s: Services, location: string): void {
  const view = (op: Operation | OperationRecord): Operation => s.operations.view(op);

  app.get("/1.0/operations", async (c) => {
    // LXD groups operations by status ({"running": [...], "success": [...]}): URLs, or the
    // operations themselves with ?recursion=1.
    const depth = recursion(c);
    const byStatus: Record<string, (string | Operation)[]> = {};
    for (const op of await s.operations.list()) {
      (byStatus[op.status.toLowerCase()] ??= []).push(depth > 0 ? view(op) : `/1.0/operations/${op.id}`);
    }
    return sync(c, byStatus);
  });
  // A trust token answers as LXD's token operation under its id (routes/certificates.ts).
  const tokenOp = async (id: string) => {
    const token = await s.trust.findToken(id);
    return token && tokenOperation(token, s.trust.service(), location);
  };
  app.get("/1.0/operations/:id", async (c) => {
    const id = c.req.param("id");
    const token = await tokenOp(id);
    return sync(c, token ?? view(await s.operations.get(id)));
  });
  app.get("/1.0/operations/:id/wait", async (c) => {
    const timeout = queryInt(c, "timeout", -1, -1, 86_400);
    return sync(c, view(await s.operations.wait(c.req.param("id"), timeout)));
  });
  app.delete("/1.0/operations/:id", async (c) => {
    const id = c.req.param("id");
    if (await s.trust.findToken(id)) {
      await s.trust.revokeToken(id);
      return sync(c, (await tokenOp(id))!);
    }
    return sync(c, view(await s.operations.cancel(id)));
  });
}
