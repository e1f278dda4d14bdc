/** `berth token ...`: API tokens — create (secret shown once), list, revoke. */
import type { Command } from "commander";
import type { TokenInfo } from "../../domain/types.ts";
import { contextOf, seg } from "../context.ts";
import type { Column } from "../output.ts";

const TOKEN_COLUMNS: Column<TokenInfo>[] = [
  { header: "ID", value: (t) => t.id },
  { header: "ROLE", value: (t) => t.role },
  { header: "MEMBER", value: (t) => t.member ?? "" },
  { header: "DESCRIPTION", value: (t) => t.description },
  { header: "CREATED", value: (t) => t.created_at },
  { header: "LAST USED", value: (t) => t.last_used_at ?? "" },
];

export function registerTokenCommands(program: Command): void {
  const token = program.command("token").description("Manage API tokens");

  token
    .command("create")
    .description("Create a token; its secret is printed once")
    .requiredOption("--role <role>", "admin, viewer (read only) or agent (one member's heartbeats)")
    .option("--member <member>", "the member an agent token is bound to")
    .option("--description <text>", "what the token is for")
    .action(async (opts: { role: string; member?: string; description?: string }, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const body: Record<string, unknown> = { role: opts.role };
      if (opts.member) body.member = opts.member;
      if (opts.description !== undefined) body.description = opts.description;
      const created = await client.post<TokenInfo & { token: string }>("/1.0/tokens", body);
      out.done(
        `Token ${created.id} (${created.role}${created.member ? ` for ${created.member}` : ""}) created.\n` +
          `Its secret is shown only this once; store it now:\n${created.token}`,
        created,
      );
    });

  token
    .command("list")
    .alias("ls")
    .description("List tokens (without their secrets)")
    .action(async (_opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      out.list(await client.get<TokenInfo[]>("/1.0/tokens", { recursion: 1 }), TOKEN_COLUMNS);
    });

  token
    .command("revoke")
    .alias("delete")
    .description("Revoke a token")
    .argument("<id>", "token id")
    .action(async (id: string, _opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      await client.delete(`/1.0/tokens/${seg(id)}`);
      out.done(`Token ${id} revoked`);
    });
}
