/** /1.0/instances[/{name}[/state]] */
import type { Context, Hono } from "hono";
import { badRequest } from "../../domain/errors.ts";
import { checkName } from "../../domain/names.ts";
import { instanceUrl } from "../../cluster/instanceRecords.ts";
import type { Instance } from "../../domain/types.ts";
import { async, sync } from "../envelope.ts";
import { instanceCreateSchema, instanceStateSchema, instanceUpdateSchema } from "../schemas.ts";
import type { Services } from "../services.ts";
import { queryBool, readBody, recursion } from "../validation.ts";
import { instanceFull, instanceState, instanceView, listing, type ObservedInstanceView } from "../views.ts";
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

/**
 * An instance as the API shows it: on a member with an agent, `status` is what the agent observes
 * (Running, Stopped, or Error — a crash — with `observed.reason`), and `observed` carries the report.
 */
function viewOf(s: Services, i: Instance): ObservedInstanceView {
  const observed = s.agents.observed(i.location, i.project, i.name);
  return observed ? { ...i, status: observed.status, observed } : i;
}

export function instanceRoutes(app: Hono<AuthEnv>, s: Services): void {
  app.get("/1.0/instances", async (c) => {
    const all = queryBool(c, "all-projects");
    if (all && c.req.query("project")) throw badRequest("Use either project or all-projects=true, not both");
    const project = all ? undefined : projectOf(c);
    if (project !== undefined) s.projects.get(project);
    // recursion=2 is LXD's full form (container_full): with state, snapshots and backups.
    const instances = (await s.instances.list({ project })).map((i) => viewOf(s, i));
    return sync(c, await listing(c, instances, instanceUrl, (i, depth) => (depth > 1 ? instanceFull(i) : instanceView(i))));
  });

  app.post("/1.0/instances", async (c) => {
    const project = projectOf(c);
    const target = targetOf(c);
    const { name, type, architecture, description, config, devices, profiles, start, source } = await readBody(c, instanceCreateSchema);
    // Checked, placed and stored now: a refusal is this request's 4xx. The operation (as LXD's)
    // names the instance and where it landed, and starts it when asked.
    const instance = await s.instances.create(project, { name, type, architecture, description, config, devices, profiles, source }, target);
    return async(c, await s.operations.start({
      kind: "instance-create",
      description: "Creating instance",
      resources: { instances: [instanceUrl(instance)] },
      metadata: { location: instance.location },
      input: { project, name: instance.name, start: start ?? false },
    }));
  });

  // ?recursion=1 is LXD's full form (instance_get_full).
  app.get("/1.0/instances/:name", async (c) => {
    const instance = viewOf(s, await s.instances.get(projectOf(c), c.req.param("name")));
    return sync(c, recursion(c) > 0 ? instanceFull(instance) : instanceView(instance));
  });

  // The instance's recent output (the last 64 KiB), asked of its member's agent.
  app.get("/1.0/instances/:name/log", async (c) => {
    const instance = await s.instances.get(projectOf(c), c.req.param("name"));
    if (!s.agents.hasAgent(instance.location)) {
      throw badRequest(`Instance "${instance.name}" is on cluster member "${instance.location}", which has no agent: there is no output to show`);
    }
    const answer = await s.desired.ask(instance.location, { kind: "log", project: instance.project, name: instance.name }, 10_000);
    return sync(c, { log: answer.log ?? "" });
  });

  // Berth keeps no snapshots: an instance has none (LXD clients list them, e.g. `lxc list`).
  app.get("/1.0/instances/:name/snapshots", async (c) => {
    await s.instances.get(projectOf(c), c.req.param("name"));
    return sync(c, await listing(c, [], () => ""));
  });

  // As LXD: PUT answers with an operation, PATCH synchronously. Both are checked (a resize must fit
  // its member) and stored before the answer.
  const update = (replace: boolean) => async (c: Context) => {
    const project = projectOf(c);
    const body = await readBody(c, instanceUpdateSchema);
    const input = { description: body.description, config: body.config, devices: body.devices, profiles: body.profiles };
    const updated = await s.instances.update(project, c.req.param("name")!, input, replace);
    if (!replace) return sync(c, instanceView(updated));
    return async(c, await s.operations.start({
      kind: "instance-update",
      description: "Updating instance",
      resources: { instances: [instanceUrl(updated)] },
      metadata: { location: updated.location },
      input: { project, name: updated.name },
    }));
  };
  app.put("/1.0/instances/:name", update(true));
  app.patch("/1.0/instances/:name", update(false));

  // Async as LXD; a running instance without ?force=true is refused now (400).
  app.delete("/1.0/instances/:name", async (c) => {
    const project = projectOf(c);
    const force = queryBool(c, "force");
    const instance = await s.instances.checkRemove(project, c.req.param("name"), force);
    return async(c, await s.operations.start({
      kind: "instance-delete",
      description: "Deleting instance",
      resources: { instances: [instanceUrl(instance)] },
      metadata: { location: instance.location },
      input: { project, name: instance.name, force },
    }));
  });

  app.get("/1.0/instances/:name/state", async (c) => sync(c, instanceState(viewOf(s, await s.instances.get(projectOf(c), c.req.param("name"))))));

  app.put("/1.0/instances/:name/state", async (c) => {
    const project = projectOf(c);
    const name = c.req.param("name");
    const body = await readBody(c, instanceStateSchema);
    const instance = await s.instances.get(project, name);
    // A member being evacuated or evacuated starts nothing: refused now (409), before any operation.
    if (body.action !== "stop") await s.instances.refuseStartOn(instance);
    const op = await s.operations.start({
      kind: "instance-state",
      description: { start: "Starting instance", stop: "Stopping instance", restart: "Restarting instance" }[body.action],
      resources: { instances: [instanceUrl(instance)] },
      input: { project, name, action: body.action, force: body.force ?? false, timeout: body.timeout },
    });
    return async(c, op);
  });
}
