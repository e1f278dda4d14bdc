/**
 * Join tokens and the join exchange:
 *   GET    /1.0/cluster/join-tokens[/{id}]  list (?recursion=1 for objects) or show; never secrets
 *   POST   /1.0/cluster/join-tokens         {server_name, expiry} → a new token for an existing member
 *   DELETE /1.0/cluster/join-tokens/{id}    revoke an unused token
 *   POST   /1.0/cluster/join                {secret} without a bearer token → {server_name, credential}
 * (POST /1.0/cluster/members with join: true makes a member and its first token: routes/members.ts.)
 */
import type { Hono } from "hono";
import { checkName } from "../../domain/names.ts";
import type { AuthEnv } from "../auth.ts";
import { sync } from "../envelope.ts";
import { joinSchema, joinTokenCreateSchema } from "../schemas.ts";
import type { Services } from "../services.ts";
import { readBody, recursion } from "../validation.ts";

export function joinRoutes(app: Hono<AuthEnv>, s: Services): void {
  app.get("/1.0/cluster/join-tokens", async (c) => {
    const member = c.req.query("member");
    const tokens = await s.join.list(member === undefined ? undefined : checkName("member", member));
    return sync(c, recursion(c) > 0 ? tokens : tokens.map((t) => `/1.0/cluster/join-tokens/${t.id}`));
  });

  app.get("/1.0/cluster/join-tokens/:id", async (c) => sync(c, await s.join.get(c.req.param("id"))));

  app.post("/1.0/cluster/join-tokens", async (c) => {
    const body = await readBody(c, joinTokenCreateSchema);
    const { token, info } = await s.join.issue(checkName("server_name", body.server_name), body.expiry);
    return sync(c, { ...info, join_token: token }, 201);
  });

  app.delete("/1.0/cluster/join-tokens/:id", async (c) => {
    await s.join.revoke(c.req.param("id"));
    return sync(c, {});
  });

  app.post("/1.0/cluster/join", async (c) => {
    const body = await readBody(c, joinSchema);
    return sync(c, await s.join.exchange(body.secret, body.server_name));
  });
}
