/** `berth cluster group ...`: named sets of members, used by `--target @group` and project restrictions. */
import type { Command } from "commander";
import type { ClusterGroup, Member } from "../../domain/types.ts";
import { splitList } from "../args.ts";
import { CliError } from "../client.ts";
import { contextOf, seg } from "../context.ts";
import type { Column } from "../output.ts";

const GROUP_COLUMNS: Column<ClusterGroup>[] = [
  { header: "NAME", value: (g) => g.name },
  { header: "DESCRIPTION", value: (g) => g.description },
  { header: "MEMBERS", value: (g) => g.members.length },
];

export function registerGroupCommands(cluster: Command): void {
  const group = cluster.command("group").description("Manage cluster groups");

  group
    .command("create")
    .description("Create a cluster group")
    .argument("<name>", "group name")
    .option("--description <text>", "description")
    .option("--members <members>", "initial members, comma separated")
    .action(async (name: string, opts: { description?: string; members?: string }, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const body: Record<string, unknown> = { name };
      if (opts.description !== undefined) body.description = opts.description;
      if (opts.members) body.members = splitList(opts.members);
      const created = await client.post<ClusterGroup>("/1.0/cluster/groups", body);
      out.done(`Cluster group ${name} created`, created);
    });

  group
    .command("list")
    .alias("ls")
    .description("List cluster groups")
    .action(async (_opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      out.list(await client.get<ClusterGroup[]>("/1.0/cluster/groups", { recursion: 1 }), GROUP_COLUMNS);
    });

  group
    .command("show")
    .description("Show a cluster group")
    .argument("<name>", "group name")
    .action(async (name: string, _opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      out.object(await client.get<ClusterGroup>(`/1.0/cluster/groups/${seg(name)}`));
    });

  group
    .command("assign")
    .description("Set a member's groups to exactly these")
    .argument("<member>", "member name")
    .argument("<groups>", "groups, comma separated")
    .action(async (member: string, groups: string, _opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const list = splitList(groups);
      if (list.length === 0) throw new CliError("Give at least one group, e.g. default,gpu");
      const updated = await client.patch<Member>(`/1.0/cluster/members/${seg(member)}`, { groups: list });
      out.done(`Member ${member} is now in group(s) ${updated.groups.join(", ")}`, updated);
    });

  group
    .command("add")
    .description("Add a member to a group")
    .argument("<member>", "member name")
    .argument("<group>", "group name")
    .action(async (member: string, name: string, _opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const path = `/1.0/cluster/groups/${seg(name)}`;
      const current = await client.get<ClusterGroup>(path);
      if (current.members.includes(member)) throw new CliError(`Member ${member} is already in cluster group ${name}`);
      const updated = await client.patch<ClusterGroup>(path, { members: [...current.members, member] });
      out.done(`Member ${member} added to cluster group ${name}`, updated);
    });

  group
    .command("remove")
    .description("Remove a member from a group")
    .argument("<member>", "member name")
    .argument("<group>", "group name")
    .action(async (member: string, name: string, _opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const path = `/1.0/cluster/groups/${seg(name)}`;
      const current = await client.get<ClusterGroup>(path);
      if (!current.members.includes(member)) throw new CliError(`Member ${member} is not in cluster group ${name}`);
      const updated = await client.patch<ClusterGroup>(path, { members: current.members.filter((m) => m !== member) });
      out.done(`Member ${member} removed from cluster group ${name}`, updated);
    });

  group
    .command("delete")
    .alias("rm")
    .description("Delete a cluster group")
    .argument("<name>", "group name")
    .action(async (name: string, _opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      await client.delete(`/1.0/cluster/groups/${seg(name)}`);
      out.done(`Cluster group ${name} deleted`);
    });
}
