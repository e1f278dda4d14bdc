/** /1.0/tokens[/{id}]: admin only (viewers may list). */
import type { Hono } from "hono";
import { forbidden } from "../../domain/errors.ts";
import { sync } from "../envelope.ts";
import { tokenCreateSchema } from "../schemas.ts";
import type { Services } from "../services.ts";
import { readBody } from "../validation.ts";
import type { AuthEnv } from "../auth.ts";

export function tokenRoutes(app: Hono<AuthEnv>, s: Services): void {
  app.get("/1.0/tokens", async (c) => sync(c, await s.tokens.list()));
  app.post("/1.0/tokens", async (c) => {
    if (c.get("token").role !== "admin") throw forbidden("Only an admin token may create tokens");
    const body = await readBody(c, tokenCreateSchema);
    const { token, secret } = await s.tokens.create(body);
    return sync(c, { ...token, token: secret }, 201);
  });
  app.delete("/1.0/tokens/:id", async (c) => {
    await s.tokens.revoke(c.req.param("id"));
    return sync(c, {});
  });
}
