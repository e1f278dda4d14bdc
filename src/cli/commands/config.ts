/** `berth config get|set|unset`: the server configuration (GET/PATCH /1.0). */
import type { Command } from "commander";
import { splitAssignment } from "../args.ts";
import { CliError } from "../client.ts";
import { contextOf } from "../context.ts";

interface ServerInfo {
  config: Record<string, unknown>;
  effective_config: Record<string, unknown>;
  config_keys: Record<string, unknown>;
}

/**
 * `KEY=VALUE...` or `KEY VALUE`; a value of `-` is read from stdin (once), e.g.
 * `berth config set instances.placement.scriptlet=- < policy.js`.
 */
export async function parseConfigAssignments(args: string[], readStdin: (key: string) => Promise<string>): Promise<Record<string, string>> {
  const pairs: [string, string][] =
    args.length === 2 && !args[0].includes("=") ? [[args[0], args[1]]] : args.map((arg) => splitAssignment(arg));
  if (pairs.filter(([, value]) => value === "-").length > 1) throw new CliError("Only one key can read its value from stdin (-)");
  const out: Record<string, string> = {};
  for (const [key, value] of pairs) out[key] = value === "-" ? await readStdin(key) : value;
  return out;
}

async function readStdin(key: string): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write(`Reading the value of ${key} from stdin; end with Ctrl-D\n`);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  const text = chunks.length ? Buffer.concat(chunks).toString("utf8") : "";
  // A one-line value ("30\n" from echo) loses its newline; multi-line text (a scriptlet) is kept as is.
  return /^[^\n]*\n$/.test(text) ? text.slice(0, -1) : text;
}

export function registerConfigCommands(program: Command): void {
  const config = program.command("config").description("Show and change the server configuration");

  config
    .command("get")
    .description("Without KEY: the keys set explicitly; with KEY: its effective value (default included)")
    .argument("[key]", "configuration key")
    .action(async (key: string | undefined, _opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const info = await client.get<ServerInfo>("/1.0");
      if (key === undefined) return out.keyValues(info.config);
      if (!(key in info.effective_config)) {
        throw new CliError(`Unknown configuration key "${key}" (known keys: ${Object.keys(info.config_keys).join(", ")})`);
      }
      out.value(info.effective_config[key]);
    });

  config
    .command("set")
    .description("Set keys: KEY=VALUE... or KEY VALUE; a value of - is read from stdin")
    .argument("<assignments...>", "KEY=VALUE pairs, or KEY VALUE")
    .action(async (args: string[], _opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const changes = await parseConfigAssignments(args, readStdin);
      const explicit = await client.patch<Record<string, unknown>>("/1.0", { config: changes });
      out.done(`Configuration updated: ${Object.keys(changes).join(", ")}`, explicit);
    });

  config
    .command("unset")
    .description("Reset keys to their defaults")
    .argument("<keys...>", "configuration keys")
    .action(async (keys: string[], _opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const explicit = await client.patch<Record<string, unknown>>("/1.0", { config: Object.fromEntries(keys.map((k) => [k, null])) });
      out.done(`Configuration reset to defaults: ${keys.join(", ")}`, explicit);
    });
}
