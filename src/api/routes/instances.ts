/** /1.0/instances[/{name}[/state]] */
import type { Context, Hono } from "hono";
import { badRequest } from "../../domain/errors.ts";
import { checkName } from "../../domain/names.ts";
import { instanceUrl } from "../../cluster/instanceRecords.ts";
import { async, sync } from "../envelope.ts";
import { instanceCreateSchema, instanceStateSchema, instanceUpdateSchema } from "../schemas.ts";
import type { Services } from "../services.ts";
import { queryBool, readBody, recursion } from "../validation.ts";
import { instanceFull, instanceState, instanceView, listing } from "../views.ts";
import type { AuthEnv } from "../auth.ts";

export function projectOf(c: Context): string {
  const project = c.req.query("project");
  return project === undefined || project === "" ? "default" : checkName("Query parameter project", project);
}

export function targetOf(c: Context): string | undefined {
  const target = c.req.query("target");
  if (target === undefined || target === "") return undefined;
  checkName("Query parameter target", target.startsWith("@") ? target.slice(1) : target);
  return target;
}

export function instanceRoutes(app: Hono<AuthEnv>, s: Services): void {
  app.get("/1.0/instances", (c) => {
    const all = queryBool(c, "all-projects");
    if (all && c.req.query("project")) throw badRequest("Use either project or all-projects=true, not both");
    const project = all ? undefined : projectOf(c);
    if (project !== undefined) s.projects.get(project);
    // recursion=2 is LXD's full form (container_full): with state, snapshots and backups.
    return sync(c, listing(c, s.instances.list({ project }), instanceUrl, (i, depth) => (depth > 1 ? instanceFull(i) : instanceView(i))));
  });

  app.post("/1.0/instances", async (c) => {
    const project = projectOf(c);
    const target = targetOf(c);
    const { name, type, architecture, description, config, devices, profiles, start } = await readBody(c, instanceCreateSchema);
    const instance = await s.instances.create(project, { name, type, architecture, description, config, devices, profiles, start }, target);
    c.header("Location", instanceUrl(instance));
    return sync(c, instanceView(instance), 201);
  });

  // ?recursion=1 is LXD's full form (instance_get_full).
  app.get("/1.0/instances/:name", (c) => {
    const instance = s.instances.get(projectOf(c), c.req.param("name"));
    return sync(c, recursion(c) > 0 ? instanceFull(instance) : instanceView(instance));
  });

  // Berth keeps no snapshots: an instance has none (LXD clients list them, e.g. `lxc list`).
  app.get("/1.0/instances/:name/snapshots", (c) => {
    s.instances.get(projectOf(c), c.req.param("name"));
    return sync(c, listing(c, [], () => ""));
  });

  const update = (replace: boolean) => async (c: Context) => {
    const project = projectOf(c);
    const body = await readBody(c, instanceUpdateSchema);
    const input = { description: body.description, config: body.config, devices: body.devices, profiles: body.profiles };
    return sync(c, instanceView(await s.instances.update(project, c.req.param("name")!, input, replace)));
  };
  app.put("/1.0/instances/:name", update(true));
  app.patch("/1.0/instances/:name", update(false));

  app.delete("/1.0/instances/:name", async (c) => {
    await s.instances.remove(projectOf(c), c.req.param("name"), queryBool(c, "force"));
    return sync(c, {});
  });

  app.get("/1.0/instances/:name/state", (c) => sync(c, instanceState(s.instances.get(projectOf(c), c.req.param("name")))));

  app.put("/1.0/instances/:name/state", async (c) => {
    const project = projectOf(c);
    const name = c.req.param("name");
    const body = await readBody(c, instanceStateSchema);
    const instance = s.instances.get(project, name);
    const op = s.operations.start({
      kind: "instance-state",
      description: { start: "Starting instance", stop: "Stopping instance", restart: "Restarting instance" }[body.action],
      resources: { instances: [instanceUrl(instance)] },
      input: { project, name, action: body.action, force: body.force ?? false, timeout: body.timeout },
    });
    return async(c, op);
  });
}
