/** /1.0/instances[/{name}[/state]] */
import type { Context, Hono } from "hono";
import { badRequest } from "../../domain/errors.ts";
import { checkName } from "../../domain/names.ts";
import type { Instance } from "../../domain/types.ts";
import { async, sync } from "../envelope.ts";
import { instanceCreateSchema, instanceStateSchema, instanceUpdateSchema } from "../schemas.ts";
import type { Services } from "../services.ts";
import { queryBool, readBody, recursion } from "../validation.ts";
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

function instanceUrl(i: Instance): string {
  return `/1.0/instances/${i.name}${i.project === "default" ? "" : `?project=${i.project}`}`;
}

/**
 * An instance as the API shows it: on a member with an agent, `status` is what the agent observes
 * (Running, Stopped, or Error — a crash — with `observed.reason`), and `observed` carries the report.
 */
function viewOf(s: Services, i: Instance): Instance & { observed?: unknown } {
  const observed = s.agents.observed(i.location, i.project, i.name);
  return observed ? { ...i, status: observed.status, observed } : i;
}

export function instanceRoutes(app: Hono<AuthEnv>, s: Services): void {
  app.get("/1.0/instances", async (c) => {
    const all = queryBool(c, "all-projects");
    if (all && c.req.query("project")) throw badRequest("Use either project or all-projects=true, not both");
    const project = all ? undefined : projectOf(c);
    if (project !== undefined) s.projects.get(project);
    const instances = await s.instances.list({ project });
    return sync(c, recursion(c) > 0 ? instances.map((i) => viewOf(s, i)) : instances.map(instanceUrl));
  });

  app.post("/1.0/instances", async (c) => {
    const project = projectOf(c);
    const target = targetOf(c);
    const { source: _source, ...body } = await readBody(c, instanceCreateSchema);
    const instance = await s.instances.create(project, body, target);
    c.header("Location", instanceUrl(instance));
    return sync(c, instance, 201);
  });

  app.get("/1.0/instances/:name", async (c) => sync(c, viewOf(s, await s.instances.get(projectOf(c), c.req.param("name")))));

  // The instance's recent output (the last 64 KiB), asked of its member's agent.
  app.get("/1.0/instances/:name/log", async (c) => {
    const instance = await s.instances.get(projectOf(c), c.req.param("name"));
    if (!s.agents.hasAgent(instance.location)) {
      throw badRequest(`Instance "${instance.name}" is on cluster member "${instance.location}", which has no agent: there is no output to show`);
    }
    const log = await s.desired.ask(instance.location, "log", instance.project, instance.name, 10_000);
    return sync(c, { log });
  });

  const update = (replace: boolean) => async (c: Context) => {
    const project = projectOf(c);
    const body = await readBody(c, instanceUpdateSchema);
    const input = { description: body.description, config: body.config, devices: body.devices, profiles: body.profiles };
    return sync(c, await s.instances.update(project, c.req.param("name")!, input, replace));
  };
  app.put("/1.0/instances/:name", update(true));
  app.patch("/1.0/instances/:name", update(false));

  app.delete("/1.0/instances/:name", async (c) => {
    await s.instances.remove(projectOf(c), c.req.param("name"), queryBool(c, "force"));
    return sync(c, {});
  });

  app.get("/1.0/instances/:name/state", async (c) => {
    const instance = viewOf(s, await s.instances.get(projectOf(c), c.req.param("name")));
    return sync(c, { status: instance.status, status_code: instance.status === "Running" ? 103 : 102, location: instance.location });
  });

  app.put("/1.0/instances/:name/state", async (c) => {
    const project = projectOf(c);
    const name = c.req.param("name");
    const body = await readBody(c, instanceStateSchema);
    const instance = await s.instances.get(project, name);
    const op = await s.operations.start({
      kind: "instance-state",
      description: { start: "Starting instance", stop: "Stopping instance", restart: "Restarting instance" }[body.action],
      resources: { instances: [instanceUrl(instance)] },
      input: { project, name, action: body.action, force: body.force ?? false, timeout: body.timeout },
    });
    return async(c, op);
  });
}
