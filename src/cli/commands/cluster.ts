/** `berth cluster ...`: members — list, show, add (with a join token, or with declared resources), config keys, heartbeat, remove, evacuate, restore. */
import type { Command } from "commander";
import type { Member } from "../../domain/types.ts";
import { collect, parseAssignments, parseCount, parseSizeOption, splitList } from "../args.ts";
import { CliError } from "../client.ts";
import { contextOf, seg } from "../context.ts";
import { size, type Column } from "../output.ts";
import { registerGroupCommands } from "./clusterGroup.ts";
import { registerJoinTokenCommands, printJoinToken } from "./clusterJoin.ts";
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
  expiry?: string;
  /** false with --no-join. */
  join?: boolean;
}

/**
 * The POST /1.0/cluster/members body for `cluster add`: a member that joins with a join token
 * (its agent reports its resources), unless resources are declared or --no-join is given (a
 * record kept alive by heartbeats).
 */
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
  const declared = Object.keys(resources).length > 0;
  const join = opts.join !== false && !declared;
  if (opts.expiry !== undefined && !join) {
    throw new CliError(
      `--expiry is for a join token, and a member ${declared ? "with declared resources (--cpu, --memory, --disk, --gpus)" : "added with --no-join"} gets none`,
    );
  }
  const body: Record<string, unknown> = { server_name: name };
  if (opts.arch) body.architecture = opts.arch;
  if (opts.failureDomain) body.failure_domain = opts.failureDomain;
  if (opts.group) body.groups = splitList(opts.group);
  if (opts.memberUrl) body.url = opts.memberUrl;
  if (opts.description !== undefined) body.description = opts.description;
  if (opts.config?.length) body.config = parseAssignments(opts.config);
  if (declared) body.resources = resources;
  if (join) {
    body.join = true;
    if (opts.expiry !== undefined) body.expiry = opts.expiry;
  }
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
    .description("Add a member: prints a join token for its agent (berth agent --join TOKEN); with declared resources (--cpu ...) or --no-join, a record kept alive by heartbeats instead. Pending until its first heartbeat")
    .argument("<name>", "member name")
    .option("--expiry <duration>", "how long the join token stays usable, e.g. 30m, 3h, 2d (default 3h)")
    .option("--no-join", "no join token: a member without an agent, kept alive by `berth cluster heartbeat`")
    .option("--arch <architecture>", "architecture, e.g. x86_64 or aarch64 (default x86_64)")
    .option("--failure-domain <domain>", "failure domain (default \"default\")")
    .option("--group <groups>", "cluster groups, comma separated (the member is always in \"default\")")
    .option("--member-url <url>", "the member's own address (its url field)")
    .option("--description <text>", "description")
    .option("--cpu <n>", "logical CPUs (declares resources: no join token)")
    .option("--memory <size>", "memory, e.g. 16GiB (declares resources: no join token)")
    .option("--disk <size>", "storage in --pool, e.g. 100GiB (declares resources: no join token)")
    .option("--pool <pool>", "storage pool that --disk is in (default \"default\")")
    .option("--gpus <n>", "GPU count (declares resources: no join token)")
    .option("-c, --config <key=value>", "member config key (repeatable)", collect)
    .action(async (name: string, opts: AddOptions, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const member = await client.post<Member & { join_token?: string; join_token_expires_at?: string }>("/1.0/cluster/members", memberCreateBody(name, opts));
      if (member.join_token === undefined) {
        out.done(`Member ${member.server_name} added (${member.status}: ${member.message})`, member);
        return;
      }
      out.done(
        `Member ${member.server_name} added (${member.status} until its agent joins).\n` +
          printJoinToken(member.join_token, member.server_name, member.join_token_expires_at ?? ""),
        member,
      );
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
  registerJoinTokenCommands(cluster);
}
