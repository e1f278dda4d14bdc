/** `berth cluster join-token ...`: join tokens — list, create one for an existing member, revoke, decode. */
import type { Command } from "commander";
import { decodeJoinToken, InvalidJoinToken, type JoinTokenInfo, type JoinTokenStatus } from "../../domain/joinToken.ts";
import { CliError } from "../client.ts";
import { contextOf, seg } from "../context.ts";
import type { Column } from "../output.ts";

type JoinTokenView = JoinTokenInfo & { status: JoinTokenStatus };

const COLUMNS: Column<JoinTokenView>[] = [
  { header: "ID", value: (t) => t.id },
  { header: "MEMBER", value: (t) => t.server_name },
  { header: "STATUS", value: (t) => t.status },
  { header: "CREATED", value: (t) => t.created_at },
  { header: "EXPIRES", value: (t) => t.expires_at },
  { header: "USED", value: (t) => t.used_at ?? "" },
  { header: "REVOKED", value: (t) => (t.revoked_at ? `${t.revoked_at} (${t.revoked_reason})` : "") },
];

/** What `cluster add` and `join-token create` print around a new token. */
export function printJoinToken(token: string, member: string, expiresAt: string): string {
  return `Join token for ${member} (single use, valid until ${expiresAt}); it is shown only this once:\n${token}\n` +
    `Give it to the member's agent: berth agent --join <token>`;
}

export function registerJoinTokenCommands(cluster: Command): void {
  const joinToken = cluster.command("join-token").alias("join-tokens").description("Manage join tokens (what a new member's agent joins with)");

  joinToken
    .command("list")
    .alias("ls")
    .description("List join tokens and their status (valid, used, expired, revoked), without secrets")
    .option("--member <name>", "only this member's")
    .action(async (opts: { member?: string }, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      out.list(await client.get<JoinTokenView[]>("/1.0/cluster/join-tokens", { recursion: 1, member: opts.member }), COLUMNS);
    });

  joinToken
    .command("create")
    .description("Make a new join token for an existing member (the last one expired, or its agent lost its credential)")
    .argument("<name>", "member name")
    .option("--expiry <duration>", "how long it stays usable, e.g. 30m, 3h, 2d (default 3h)")
    .action(async (name: string, opts: { expiry?: string }, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const body: Record<string, unknown> = { server_name: name };
      if (opts.expiry !== undefined) body.expiry = opts.expiry;
      const created = await client.post<JoinTokenView & { join_token: string }>("/1.0/cluster/join-tokens", body);
      out.done(printJoinToken(created.join_token, created.server_name, created.expires_at), created);
    });

  joinToken
    .command("revoke")
    .alias("delete")
    .description("Revoke an unused join token")
    .argument("<id>", "join token id (berth cluster join-token list)")
    .action(async (id: string, _opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      await client.delete(`/1.0/cluster/join-tokens/${seg(id)}`);
      out.done(`Join token ${id} revoked`);
    });

  joinToken
    .command("decode")
    .description("Show what a join token carries: member, service addresses, certificate fingerprint (not its secret)")
    .argument("<token>", "the join token")
    .action((token: string, _opts: object, cmd: Command) => {
      const { out } = contextOf(cmd);
      let decoded;
      try {
        decoded = decodeJoinToken(token);
      } catch (err) {
        if (err instanceof InvalidJoinToken) throw new CliError(err.message);
        throw err;
      }
      out.object({ server_name: decoded.server_name, addresses: decoded.addresses, fingerprint: decoded.fingerprint });
    });
}
