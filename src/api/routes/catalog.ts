/** /1.0/storage-pools[/{name}[/volumes]] and /1.0/projects[/{name}] */
import type { Context, Hono } from "hono";
import { sync } from "../envelope.ts";
import { poolCreateSchema, poolUpdateSchema, projectCreateSchema, projectUpdateSchema } from "../schemas.ts";
import type { Services } from "../services.ts";
import { readBody } from "../validation.ts";
import { listing, poolView, projectView } from "../views.ts";
import type { AuthEnv } from "../auth.ts";
import { badRequest } from "../../domain/errors.ts";
import { targetOf } from "./instances.ts";

export function catalogRoutes(app: Hono<AuthEnv>, s: Services): void {
  app.get("/1.0/storage-pools", async (c) => sync(c, await listing(c, s.pools.list(), (p) => `/1.0/storage-pools/${p.name}`, (p) => poolView(s, p))));
  // ?target=MEMBER defines the pool on that member only (Pending), as in an LXD cluster.
  app.post("/1.0/storage-pools", async (c) => {
    const target = targetOf(c);
    if (target?.startsWith("@")) throw badRequest(`Query parameter target: a storage pool is defined on one member, not a group (${target})`);
    const body = await readBody(c, poolCreateSchema);
    const pool = await s.pools.create(body, target);
    c.header("Location", `/1.0/storage-pools/${pool.name}`);
    return sync(c, await poolView(s, pool), 201);
  });
  app.get("/1.0/storage-pools/:name", async (c) => sync(c, await poolView(s, s.pools.get(c.req.param("name")))));
  const updatePool = (replace: boolean) => async (c: Context) => {
    const name = c.req.param("name")!;
    const { name: _n, driver, status: _s, locations: _l, used_by: _u, ...body } = await readBody(c, poolUpdateSchema);
    if (driver !== undefined && driver !== s.pools.get(name).driver) {
      throw badRequest(`driver of storage pool "${name}" cannot be changed (is ${s.pools.get(name).driver}, got ${JSON.stringify(driver)})`);
    }
    return sync(c, await poolView(s, await s.pools.update(name, { description: body.description, config: body.config }, replace)));
  };
  app.put("/1.0/storage-pools/:name", updatePool(true));
  app.patch("/1.0/storage-pools/:name", updatePool(false));
  app.delete("/1.0/storage-pools/:name", async (c) => {
    await s.pools.remove(c.req.param("name"));
    return sync(c, {});
  });
  // Berth keeps no storage volumes: every pool lists none (LXD clients ask, e.g. `lxc storage info`).
  app.get("/1.0/storage-pools/:name/volumes", async (c) => {
    s.pools.get(c.req.param("name"));
    return sync(c, await listing(c, [], () => ""));
  });

  app.get("/1.0/projects", async (c) => sync(c, await listing(c, s.projects.list(), (p) => `/1.0/projects/${p.name}`, (p) => projectView(s, p))));
  app.post("/1.0/projects", async (c) => {
    const body = await readBody(c, projectCreateSchema);
    return sync(c, await projectView(s, await s.projects.create(body)), 201);
  });
  app.get("/1.0/projects/:name", async (c) => sync(c, await projectView(s, s.projects.get(c.req.param("name")))));
  const updateProject = (replace: boolean) => async (c: Context) => {
    const { name: _n, used_by: _u, ...body } = await readBody(c, projectUpdateSchema);
    return sync(c, await projectView(s, await s.projects.update(c.req.param("name")!, { description: body.description, config: body.config }, replace)));
  };
  app.put("/1.0/projects/:name", updateProject(true));
  app.patch("/1.0/projects/:name", updateProject(false));
  app.delete("/1.0/projects/:name", async (c) => {
    await s.projects.remove(c.req.param("name"));
    return sync(c, {});
  });
}
