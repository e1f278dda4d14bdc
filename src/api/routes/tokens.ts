/** /1.0/tokens[/{id}]: admin only (viewers may list and show). */
import type { Hono } from "hono";
import { forbidden } from "../../domain/errors.ts";
import { sync } from "../envelope.ts";
import { tokenCreateSchema } from "../schemas.ts";
import type { Services } from "../services.ts";
import { readBody } from "../validation.ts";
import { listing } from "../views.ts";
import type { AuthEnv } from "../auth.ts";

export function tokenRoutes(app: Hono<AuthEnv>, s: Services): void {
  // As LXD's collections: URLs, or the tokens with ?recursion=1; never a secret (only hashes are stored).
  app.get("/1.0/tokens", async (c) => sync(c, await listing(c, await s.tokens.list(), (t) => `/1.0/tokens/${t.id}`)));
  app.get("/1.0/tokens/:id", async (c) => sync(c, await s.tokens.get(c.req.param("id"))));
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
