/**
 * `berth trust ...`: the trusted client certificates, as `lxc config trust`: add (a trust token that
 * `lxc remote add REMOTE TOKEN` accepts), list, remove, and the pending tokens.
 */
import type { Command } from "commander";
import { encodeTrustToken, type CertificateInfo, type TrustTokenInfo, type TrustTokenStatus } from "../../domain/trustToken.ts";
import type { Operation } from "../../domain/types.ts";
import { CliError } from "../client.ts";
import { contextOf, seg } from "../context.ts";
import type { Column } from "../output.ts";

type TrustTokenView = TrustTokenInfo & { status: TrustTokenStatus };

const CERT_COLUMNS: Column<CertificateInfo>[] = [
  { header: "NAME", value: (c) => c.name },
  { header: "TYPE", value: (c) => c.type },
  { header: "FINGERPRINT", value: (c) => c.fingerprint.slice(0, 12) },
  { header: "ADDED", value: (c) => c.created_at },
];

const TOKEN_COLUMNS: Column<TrustTokenView>[] = [
  { header: "ID", value: (t) => t.id },
  { header: "NAME", value: (t) => t.name },
  { header: "STATUS", value: (t) => t.status },
  { header: "CREATED", value: (t) => t.created_at },
  { header: "EXPIRES", value: (t) => t.expires_at },
  { header: "USED BY", value: (t) => t.fingerprint?.slice(0, 12) ?? "" },
];

/** The token text from the operation POST /1.0/certificates answers, as `lxc config trust add` builds it. */
export function tokenFromOperation(op: Operation): string {
  const m = op.metadata as { secret?: unknown; fingerprint?: unknown; addresses?: unknown; expiresAt?: unknown; request?: { name?: unknown } };
  if (typeof m.secret !== "string" || typeof m.fingerprint !== "string" || !Array.isArray(m.addresses) || typeof m.request?.name !== "string") {
    throw new CliError("The service answered without a trust token (is it a Berth service with certificate_token?)");
  }
  return encodeTrustToken({
    client_name: m.request.name, fingerprint: m.fingerprint, addresses: m.addresses as string[], secret: m.secret,
    expires_at: typeof m.expiresAt === "string" ? m.expiresAt : "",
  });
}

export function registerTrustCommands(program: Command): void {
  const trust = program.command("trust").description("Manage trusted client certificates (lxc remote add with a trust token)");

  trust
    .command("add")
    .description("Make a single-use trust token for a client: `lxc remote add REMOTE TOKEN` then trusts that client's certificate (as admin)")
    .argument("<name>", "the client's name (the certificate is listed under it)")
    .option("--expiry <duration>", "how long it stays usable, e.g. 30m, 3h, 2d (default 3h)")
    .action(async (name: string, opts: { expiry?: string }, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const body: Record<string, unknown> = { type: "client", name, token: true };
      if (opts.expiry !== undefined) body.expiry = opts.expiry;
      const op = await client.post<Operation>("/1.0/certificates", body);
      const token = tokenFromOperation(op);
      const expires = (op.metadata as { expiresAt?: string }).expiresAt;
      out.done(
        `Client ${name} certificate add token (single use, valid until ${expires}); it is shown only this once:\n${token}\n` +
          `On the client: lxc remote add <remote> <token>`,
        { id: op.id, name, token, expires_at: expires },
      );
    });

  trust
    .command("list")
    .alias("ls")
    .description("List trusted certificates")
    .action(async (_opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      out.list(await client.get<CertificateInfo[]>("/1.0/certificates", { recursion: 1 }), CERT_COLUMNS);
    });

  trust
    .command("remove")
    .alias("rm")
    .description("Stop trusting a certificate")
    .argument("<fingerprint>", "its fingerprint, or a unique prefix of it (berth trust list)")
    .action(async (fingerprint: string, _opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const cert = await client.get<CertificateInfo>(`/1.0/certificates/${seg(fingerprint)}`);
      await client.delete(`/1.0/certificates/${seg(cert.fingerprint)}`);
      out.done(`Certificate ${cert.name} (${cert.fingerprint.slice(0, 12)}) is no longer trusted`);
    });

  trust
    .command("list-tokens")
    .description("List trust tokens and their status (valid, used, expired, revoked), without secrets")
    .action(async (_opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      out.list(await client.get<TrustTokenView[]>("/1.0/trust-tokens", { recursion: 1 }), TOKEN_COLUMNS);
    });

  trust
    .command("revoke-token")
    .description("Revoke an unused trust token")
    .argument("<id>", "trust token id (berth trust list-tokens)")
    .action(async (id: string, _opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      await client.delete(`/1.0/trust-tokens/${seg(id)}`);
      out.done(`Trust token ${id} revoked`);
    });
}
