/** /1.0/storage-pools[/{name}] and /1.0/projects[/{name}] */
import type { Context, Hono } from "hono";
import { sync } from "../envelope.ts";
import { poolCreateSchema, poolUpdateSchema, projectCreateSchema, projectUpdateSchema } from "../schemas.ts";
import type { Services } from "../services.ts";
import { readBody, recursion } from "../validation.ts";
import type { AuthEnv } from "../auth.ts";
import { badRequest } from "../../domain/errors.ts";

export function catalogRoutes(app: Hono<AuthEnv>, s: Services): void {
  app.get("/1.0/storage-pools", (c) => {
    const pools = s.pools.list();
    return sync(c, recursion(c) > 0 ? pools : pools.map((p) => `/1.0/storage-pools/${p.name}`));
  });
  app.post("/1.0/storage-pools", async (c) => sync(c, await s.pools.create(await readBody(c, poolCreateSchema)), 201));
  app.get("/1.0/storage-pools/:name", (c) => sync(c, s.pools.get(c.req.param("name"))));
  const updatePool = (replace: boolean) => async (c: Context) => {
    const name = c.req.param("name")!;
    const { name: _n, driver, ...body } = await readBody(c, poolUpdateSchema);
    if (driver !== undefined && driver !== s.pools.get(name).driver) {
      throw badRequest(`driver of storage pool "${name}" cannot be changed (is ${s.pools.get(name).driver}, got ${JSON.stringify(driver)})`);
    }
    return sync(c, await s.pools.update(name, body, replace));
  };
  app.put("/1.0/storage-pools/:name", updatePool(true));
  app.patch("/1.0/storage-pools/:name", updatePool(false));
  app.delete("/1.0/storage-pools/:name", async (c) => {
    await s.pools.remove(c.req.param("name"));
    return sync(c, {});
  });

  app.get("/1.0/projects", (c) => {
    const projects = s.projects.list();
    return sync(c, recursion(c) > 0 ? projects : projects.map((p) => `/1.0/projects/${p.name}`));
  });
  app.post("/1.0/projects", async (c) => sync(c, await s.projects.create(await readBody(c, projectCreateSchema)), 201));
  app.get("/1.0/projects/:name", (c) => sync(c, s.projects.get(c.req.param("name"))));
  const updateProject = (replace: boolean) => async (c: Context) => {
    const { name: _n, ...body } = await readBody(c, projectUpdateSchema);
    return sync(c, await s.projects.update(c.req.param("name")!, body, replace));
  };
  app.put("/1.0/projects/:name", updateProject(true));
  app.patch("/1.0/projects/:name", updateProject(false));
  app.delete("/1.0/projects/:name", async (c) => {
    await s.projects.remove(c.req.param("name"));
    return sync(c, {});
  });
}
