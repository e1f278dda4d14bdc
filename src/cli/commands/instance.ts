/** `berth instance ...`: create (placed on a member or group), list, show, config, start/stop, move, delete. */
import type { Command } from "commander";
import type { Instance } from "../../domain/types.ts";
import { addResourceOptions, checkInstanceType, collect, instanceResources, parseAssignments, type InstanceResourceOptions } from "../args.ts";
import { CliError, type Query } from "../client.ts";
import { contextOf, seg } from "../context.ts";
import type { Column } from "../output.ts";

function instanceColumns(withProject: boolean): Column<Instance>[] {
  return [
    { header: "NAME", value: (i) => i.name },
    ...(withProject ? [{ header: "PROJECT", value: (i: Instance) => i.project }] : []),
    { header: "STATUS", value: (i) => i.status },
    { header: "TYPE", value: (i) => (i.type === "virtual-machine" ? "VIRTUAL-MACHINE" : "CONTAINER") },
    { header: "LOCATION", value: (i) => i.location },
    { header: "CPU", value: (i) => i.config["limits.cpu"] ?? "" },
    { header: "MEMORY", value: (i) => i.config["limits.memory"] ?? "" },
  ];
}

interface CreateOptions extends InstanceResourceOptions {
  target?: string;
  project?: string;
  type?: string;
  description?: string;
  start?: boolean;
  image?: string;
}

/** The POST /1.0/instances body for `instance create`. */
export function instanceCreateBody(name: string, opts: CreateOptions): Record<string, unknown> {
  checkInstanceType(opts.type);
  const { config, devices } = instanceResources(opts);
  const body: Record<string, unknown> = { name, config, devices };
  if (opts.type) body.type = opts.type;
  if (opts.description !== undefined) body.description = opts.description;
  if (opts.start) body.start = true;
  // As `lxc launch IMAGE`: a hex string is a fingerprint (or its prefix), anything else an alias.
  if (opts.image) body.source = /^[0-9a-f]{12,64}$/.test(opts.image) ? { type: "image", fingerprint: opts.image } : { type: "image", alias: opts.image };
  return body;
}

function projectQuery(opts: { project?: string }, extra: Query = {}): Query {
  return { project: opts.project, ...extra };
}

const projectOption = ["--project <project>", "project (default \"default\")"] as const;

export function registerInstanceCommands(program: Command): void {
  const instance = program.command("instance").description("Manage instances");

  addResourceOptions(instance
    .command("create")
    .alias("launch")
    .description("Create an instance; Berth places it on a member")
    .argument("<name>", "instance name")
    .option("--target <member|@group>", "a member, or @group for any member of a group")
    .option(...projectOption)
    .option("--type <type>", "container or virtual-machine (default container)")
    .option("--description <text>", "description"))
    .option("--start", "start it once created")
    .option("--image <alias|fingerprint>", "the image it is created from on an lxd member (kept as its source)")
    .action(async (name: string, opts: CreateOptions, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      // Placed and stored before the answer; its operation says where, and starts it when asked.
      const op = await client.runOperation("POST", "/1.0/instances", { body: instanceCreateBody(name, opts), query: projectQuery(opts, { target: opts.target }) });
      const { location, status } = op.metadata as { location?: string; status?: string };
      const created = await client.get<Instance>(`/1.0/instances/${seg(name)}`, projectQuery(opts));
      out.done(`Instance ${name} created on ${location ?? created.location}${status === "Running" ? " and started" : ""}`, created);
    });

  instance
    .command("list")
    .alias("ls")
    .description("List instances")
    .option(...projectOption)
    .option("--all-projects", "list instances of every project")
    .action(async (opts: { project?: string; allProjects?: boolean }, cmd: Command) => {
      if (opts.project && opts.allProjects) throw new CliError("Use either --project or --all-projects, not both");
      const { client, out } = contextOf(cmd);
      const query: Query = opts.allProjects ? { "all-projects": true } : projectQuery(opts);
      const instances = await client.get<Instance[]>("/1.0/instances", { ...query, recursion: 1 });
      out.list(instances, instanceColumns(opts.allProjects === true));
    });

  instance
    .command("show")
    .description("Show an instance")
    .argument("<name>", "instance name")
    .option(...projectOption)
    .action(async (name: string, opts: { project?: string }, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      out.object(await client.get<Instance>(`/1.0/instances/${seg(name)}`, projectQuery(opts)));
    });

  instance
    .command("log")
    .description("Show an instance's recent output (the last 64 KiB, from its member's agent)")
    .argument("<name>", "instance name")
    .option(...projectOption)
    .action(async (name: string, opts: { project?: string }, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const { log } = await client.get<{ log: string }>(`/1.0/instances/${seg(name)}/log`, projectQuery(opts));
      out.value(log);
    });

  const config = instance.command("config").description("Change an instance's configuration");

  config
    .command("set")
    .description("Set instance configuration keys")
    .argument("<name>", "instance name")
    .argument("<key=value...>", "keys to set")
    .option(...projectOption)
    .action(async (name: string, pairs: string[], opts: { project?: string }, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const updated = await client.patch<Instance>(`/1.0/instances/${seg(name)}`, { config: parseAssignments(pairs) }, projectQuery(opts));
      out.done(`Instance ${name} updated`, updated);
    });

  config
    .command("unset")
    .description("Remove an instance configuration key")
    .argument("<name>", "instance name")
    .argument("<key>", "key to remove")
    .option(...projectOption)
    .action(async (name: string, key: string, opts: { project?: string }, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      // In a PATCH, an empty value removes the key.
      const updated = await client.patch<Instance>(`/1.0/instances/${seg(name)}`, { config: { [key]: "" } }, projectQuery(opts));
      out.done(`Instance ${name} updated`, updated);
    });

  for (const action of ["start", "stop", "restart"] as const) {
    const sub = instance
      .command(action)
      .description(`${action[0].toUpperCase()}${action.slice(1)} an instance and wait until it is done`)
      .argument("<name>", "instance name")
      .option(...projectOption);
    if (action !== "start") sub.option("--force", "skip the clean shutdown");
    sub.action(async (name: string, opts: { project?: string; force?: boolean }, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const body: Record<string, unknown> = { action };
      if (opts.force) body.force = true;
      const op = await client.runOperation("PUT", `/1.0/instances/${seg(name)}/state`, { body, query: projectQuery(opts) });
      const status = typeof op.metadata.status === "string" ? op.metadata.status : "";
      out.done(`Instance ${name} ${action === "stop" ? "stopped" : action === "start" ? "started" : "restarted"}${status ? ` (${status})` : ""}`, op);
    });
  }

  instance
    .command("move")
    .description("Move an instance to another member (the scheduler picks one unless --target names it) and wait until it is done")
    .argument("<name>", "instance name")
    .option("--target <member|@group>", "a member, or @group for any member of a group")
    .option(...projectOption)
    .option("--live", "live-migrate where the member can (a running instance keeps running)")
    .action(async (name: string, opts: { target?: string; project?: string; live?: boolean }, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const body: Record<string, unknown> = { migration: true };
      if (opts.live) body.live = true;
      const op = await client.runOperation("POST", `/1.0/instances/${seg(name)}`, { body, query: projectQuery(opts, { target: opts.target }) });
      const { from, to } = op.metadata as { from?: string; to?: string };
      out.done(`Instance ${name} moved from ${from ?? "?"} to ${to ?? "?"}`, op);
    });

  instance
    .command("delete")
    .alias("rm")
    .description("Delete an instance")
    .argument("<name>", "instance name")
    .option(...projectOption)
    .option("--force", "stop it first if it is running")
    .action(async (name: string, opts: { project?: string; force?: boolean }, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      try {
        await client.runOperation("DELETE", `/1.0/instances/${seg(name)}`, { query: projectQuery(opts, { force: opts.force ? true : undefined }) });
      } catch (err) {
        // The API's answer names its parameter (force=true); here the flag is what to add.
        if (!opts.force && err instanceof CliError && /is running; stop it first/.test(err.message)) {
          const stop = `berth instance stop ${name}${opts.project ? ` --project ${opts.project}` : ""}`;
          throw new CliError(`Instance ${name} is running; stop it first (${stop}) or delete it with --force`);
        }
        throw err;
      }
      out.done(`Instance ${name} deleted`);
    });
}
