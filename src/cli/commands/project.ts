/** `berth project ...`: projects and their config (restricted.cluster.groups limits placement). */
import type { Command } from "commander";
import type { Project } from "../../domain/types.ts";
import { collect, parseAssignments } from "../args.ts";
import { CliError } from "../client.ts";
import { contextOf, seg } from "../context.ts";
import type { Column } from "../output.ts";

const PROJECT_COLUMNS: Column<Project>[] = [
  { header: "NAME", value: (p) => p.name },
  { header: "DESCRIPTION", value: (p) => p.description },
  { header: "CONFIG", value: (p) => Object.entries(p.config).map(([k, v]) => `${k}=${v}`) },
];

export function registerProjectCommands(program: Command): void {
  const project = program.command("project").description("Manage projects");

  project
    .command("create")
    .description("Create a project")
    .argument("<name>", "project name")
    .option("--description <text>", "description")
    .option("-c, --config <key=value>", "project config key, e.g. restricted.cluster.groups=gpu (repeatable)", collect)
    .action(async (name: string, opts: { description?: string; config?: string[] }, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const body: Record<string, unknown> = { name };
      if (opts.description !== undefined) body.description = opts.description;
      if (opts.config?.length) body.config = parseAssignments(opts.config);
      const created = await client.post<Project>("/1.0/projects", body);
      out.done(`Project ${name} created`, created);
    });

  project
    .command("list")
    .alias("ls")
    .description("List projects")
    .action(async (_opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      out.list(await client.get<Project[]>("/1.0/projects", { recursion: 1 }), PROJECT_COLUMNS);
    });

  project
    .command("show")
    .description("Show a project")
    .argument("<name>", "project name")
    .action(async (name: string, _opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      out.object(await client.get<Project>(`/1.0/projects/${seg(name)}`));
    });

  project
    .command("set")
    .description("Set project configuration keys")
    .argument("<name>", "project name")
    .argument("<key=value...>", "keys to set")
    .action(async (name: string, pairs: string[], _opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const updated = await client.patch<Project>(`/1.0/projects/${seg(name)}`, { config: parseAssignments(pairs) });
      out.done(`Project ${name} updated`, updated);
    });

  project
    .command("unset")
    .description("Remove a project configuration key")
    .argument("<name>", "project name")
    .argument("<key>", "key to remove")
    .action(async (name: string, key: string, _opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const path = `/1.0/projects/${seg(name)}`;
      // An empty value in a PATCH removes the key, in one request (no read-modify-write race).
      const current = await client.get<Project>(path);
      if (!(key in current.config)) throw new CliError(`Project ${name} has no config key "${key}"`);
      const updated = await client.patch<Project>(path, { config: { [key]: "" } });
      out.done(`Project ${name} updated`, updated);
    });

  project
    .command("delete")
    .alias("rm")
    .description("Delete a project (it must have no instances)")
    .argument("<name>", "project name")
    .action(async (name: string, _opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      await client.delete(`/1.0/projects/${seg(name)}`);
      out.done(`Project ${name} deleted`);
    });
}
