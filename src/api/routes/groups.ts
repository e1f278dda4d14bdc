/** /1.0/cluster/groups[/{name}] */
import type { Context, Hono } from "hono";
import { sync } from "../envelope.ts";
import { groupCreateSchema, groupUpdateSchema } from "../schemas.ts";
import type { Services } from "../services.ts";
import { readBody } from "../validation.ts";
import { listing } from "../views.ts";
import type { AuthEnv } from "../auth.ts";

export function groupRoutes(app: Hono<AuthEnv>, s: Services): void {
  app.get("/1.0/cluster/groups", async (c) => sync(c, await listing(c, s.groups.list(), (g) => `/1.0/cluster/groups/${g.name}`)));
  app.post("/1.0/cluster/groups", async (c) => sync(c, await s.groups.create(await readBody(c, groupCreateSchema)), 201));
  app.get("/1.0/cluster/groups/:name", (c) => sync(c, s.groups.get(c.req.param("name"))));
  const update = (replace: boolean) => async (c: Context) => {
    const { name: _n, ...body } = await readBody(c, groupUpdateSchema);
    return sync(c, await s.groups.update(c.req.param("name")!, body, replace));
  };
  app.put("/1.0/cluster/groups/:name", update(true));
  app.patch("/1.0/cluster/groups/:name", update(false));
  app.delete("/1.0/cluster/groups/:name", async (c) => {
    await s.groups.remove(c.req.param("name"));
    return sync(c, {});
  });
}
