/** `berth cluster ...`: members — list, show, add with declared resources, config keys, heartbeat, remove, evacuate, restore. */
import type { Command } from "commander";
import type { Member } from "../../domain/types.ts";
import { collect, parseAssignments, parseCount, parseSizeOption, splitList } from "../args.ts";
import { CliError } from "../client.ts";
import { contextOf, seg } from "../context.ts";
import { size, type Column } from "../output.ts";
import { registerGroupCommands } from "./clusterGroup.ts";
import { registerStateCommands } from "./clusterState.ts";

const MEMBER_COLUMNS: Column<Member>[] = [
  { header: "NAME", value: (m) => m.server_name },
  { header: "URL", value: (m) => m.url },
  { header: "ARCHITECTURE", value: (m) => m.architecture },
  { header: "FAILURE DOMAIN", value: (m) => m.failure_domain },
  { header: "GROUPS", value: (m) => m.groups },
  { header: "CPU", value: (m) => m.resources?.cpu.total ?? "" },
  { header: "MEMORY", value: (m) => size(m.resources?.memory.total) },
  { header: "STATUS", value: (m) => m.status },
  { header: "MESSAGE", value: (m) => m.message },
  { header: "AGENT", value: (m) => (m.agent ? m.agent.driver : "") },
  { header: "LAST HEARTBEAT", value: (m) => m.last_heartbeat ?? "" },
];

interface AddOptions {
  arch?: string;
  failureDomain?: string;
  group?: string;
  memberUrl?: string;
  description?: string;
  cpu?: string;
  memory?: string;
  disk?: string;
  pool?: string;
  gpus?: string;
  config?: string[];
}

/** The POST /1.0/cluster/members body for `cluster add`. */
export function memberCreateBody(name: string, opts: AddOptions): Record<string, unknown> {
  const resources: Record<string, unknown> = {};
  if (opts.cpu !== undefined) resources.cpu = { total: parseCount(opts.cpu, "--cpu") };
  if (opts.memory !== undefined) resources.memory = { total: parseSizeOption(opts.memory, "--memory") };
  if (opts.disk !== undefined) {
    resources.storage = { pools: { [opts.pool ?? "default"]: { total: parseSizeOption(opts.disk, "--disk") } } };
  } else if (opts.pool !== undefined) {
    throw new CliError("--pool names the pool that --disk declares; give --disk too (e.g. --disk 100GiB --pool default)");
  }
  if (opts.gpus !== undefined) resources.gpu = { total: parseCount(opts.gpus, "--gpus", true) };
  const body: Record<string, unknown> = { server_name: name };
  if (opts.arch) body.architecture = opts.arch;
  if (opts.failureDomain) body.failure_domain = opts.failureDomain;
  if (opts.group) body.groups = splitList(opts.group);
  if (opts.memberUrl) body.url = opts.memberUrl;
  if (opts.description !== undefined) body.description = opts.description;
  if (opts.config?.length) body.config = parseAssignments(opts.config);
  if (Object.keys(resources).length > 0) body.resources = resources;
  return body;
}

export function registerClusterCommands(program: Command): void {
  const cluster = program.command("cluster").description("Manage cluster members and groups");

  cluster
    .command("list")
    .alias("ls")
    .description("List cluster members")
    .action(async (_opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const members = await client.get<Member[]>("/1.0/cluster/members", { recursion: 1 });
      out.list(members, MEMBER_COLUMNS);
    });

  cluster
    .command("show")
    .description("Show a cluster member")
    .argument("<name>", "member name")
    .action(async (name: string, _opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      out.object(await client.get<Member>(`/1.0/cluster/members/${seg(name)}`));
    });

  cluster
    .command("add")
    .description("Register a member with its declared resources (Pending until its first heartbeat)")
    .argument("<name>", "member name")
    .option("--arch <architecture>", "architecture, e.g. x86_64 or aarch64 (default x86_64)")
    .option("--failure-domain <domain>", "failure domain (default \"default\")")
    .option("--group <groups>", "cluster groups, comma separated (the member is always in \"default\")")
    .option("--member-url <url>", "the member's own address (its url field)")
    .option("--description <text>", "description")
    .option("--cpu <n>", "logical CPUs")
    .option("--memory <size>", "memory, e.g. 16GiB")
    .option("--disk <size>", "storage in --pool, e.g. 100GiB")
    .option("--pool <pool>", "storage pool that --disk is in (default \"default\")")
    .option("--gpus <n>", "GPU count")
    .option("-c, --config <key=value>", "member config key (repeatable)", collect)
    .action(async (name: string, opts: AddOptions, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const member = await client.post<Member>("/1.0/cluster/members", memberCreateBody(name, opts));
      out.done(`Member ${member.server_name} added (${member.status}: ${member.message})`, member);
    });

  cluster
    .command("set")
    .description("Set member configuration keys (scheduler.instance, user.*)")
    .argument("<name>", "member name")
    .argument("<key=value...>", "keys to set")
    .action(async (name: string, pairs: string[], _opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const member = await client.patch<Member>(`/1.0/cluster/members/${seg(name)}`, { config: parseAssignments(pairs) });
      out.done(`Member ${name} updated`, member);
    });

  cluster
    .command("unset")
    .description("Remove a member configuration key")
    .argument("<name>", "member name")
    .argument("<key>", "key to remove")
    .action(async (name: string, key: string, _opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const path = `/1.0/cluster/members/${seg(name)}`;
      // An empty value in a PATCH removes the key, in one request (no read-modify-write race).
      const member = await client.get<Member>(path);
      if (!(key in member.config)) throw new CliError(`Member ${name} has no config key "${key}"`);
      const updated = await client.patch<Member>(path, { config: { [key]: "" } });
      out.done(`Member ${name} updated`, updated);
    });

  cluster
    .command("heartbeat")
    .description("Record a heartbeat for a member (for members without an agent)")
    .argument("<name>", "member name")
    .action(async (name: string, _opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const result = await client.post<{ status: string; message: string }>(`/1.0/cluster/members/${seg(name)}/heartbeat`, {});
      out.done(`Heartbeat recorded for ${name}: ${result.status} (${result.message})`, result);
    });

  cluster
    .command("remove")
    .alias("rm")
    .description("Remove a member (it must host no instances)")
    .argument("<name>", "member name")
    .action(async (name: string, _opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      await client.delete(`/1.0/cluster/members/${seg(name)}`);
      out.done(`Member ${name} removed`);
    });

  registerStateCommands(cluster);
  registerGroupCommands(cluster);
}
