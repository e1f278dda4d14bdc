/** What every API command needs: a client built from the global options, and the output format. */
import type { Command } from "commander";
import { BerthClient, resolveConnection } from "./client.ts";
import { Output, parseFormat } from "./output.ts";

export interface GlobalOptions {
  url?: string;
  token?: string;
  fingerprint?: string;
  format: string;
}

export interface CommandContext {
  client: BerthClient;
  out: Output;
}

export function contextOf(command: Command): CommandContext {
  const opts = command.optsWithGlobals<GlobalOptions>();
  return {
    client: new BerthClient(resolveConnection({ url: opts.url, token: opts.token, fingerprint: opts.fingerprint })),
    out: new Output(parseFormat(opts.format ?? "table")),
  };
}

/** Path segment for a name typed by the user. */
export function seg(name: string): string {
  return encodeURIComponent(name);
}
