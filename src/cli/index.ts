/** The `berth` command: the service (`serve`) and a CLI client of the HTTP API. */
import type { Command as CommandType } from "commander";
import { Command, CommanderError, Option } from "./commander.ts";
import { CliError } from "./client.ts";
import { FORMATS } from "./output.ts";
import { VERSION } from "../domain/version.ts";

type Register = (program: CommandType) => void;

/**
 * The command groups in the order `berth --help` lists them (after `serve`), each with the module
 * that registers it. A call loads only the group it runs: every module costs start-up time, and a
 * CLI call should cost little more than starting Node.
 */
const GROUPS: [name: string, load: () => Promise<Register>][] = [
  ["cluster", async () => (await import("./commands/cluster.ts")).registerClusterCommands],
  ["storage", async () => (await import("./commands/storage.ts")).registerStorageCommands],
  ["project", async () => (await import("./commands/project.ts")).registerProjectCommands],
  ["instance", async () => (await import("./commands/instance.ts")).registerInstanceCommands],
  ["placement", async () => (await import("./commands/placement.ts")).registerPlacementCommands],
  ["scriptlet", async () => (await import("./commands/scriptlet.ts")).registerScriptletCommands],
  ["config", async () => (await import("./commands/config.ts")).registerConfigCommands],
  ["operation", async () => (await import("./commands/operation.ts")).registerOperationCommands],
  ["monitor", async () => (await import("./commands/monitor.ts")).registerMonitorCommand],
  ["token", async () => (await import("./commands/token.ts")).registerTokenCommands],
  ["trust", async () => (await import("./commands/trust.ts")).registerTrustCommands],
  ["agent", async () => (await import("./commands/agent.ts")).registerAgentCommand],
];

/** The program's own options that take a value (`--url X`): their value is not the command's name. */
const VALUE_OPTIONS = new Set(["--url", "--token", "--fingerprint", "--format"]);

/** --listen collector: repeated flags add up (the default applies only when none is given). */
function collectListen(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The command a call names (`berth --format json cluster list` → "cluster"); undefined if none. */
export function commandName(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") return undefined;
    if (VALUE_OPTIONS.has(arg)) i++;
    else if (!arg.startsWith("-")) return arg;
  }
  return undefined;
}

/**
 * The `berth` program for these arguments (argv without node and the script): only the command
 * group they name is registered; with no known command (help, a typo) every group is, so help,
 * errors and suggestions read as they would with the whole program.
 */
export async function buildProgram(args: string[]): Promise<CommandType> {
  const program = new Command("berth").description("Berth: placement scheduler for clusters").showHelpAfterError("(add --help for usage)");
  // Errors become exceptions that main() turns into an exit code (no process.exit mid-flight); subcommands inherit this.
  program.exitOverride();
  program.version(VERSION, "-V, --version", "print Berth's version");
  program
    .option("--url <url>", "Berth service URL; several, comma-separated, are tried in turn (BERTH_URL, default http://127.0.0.1:8443)")
    .option("--token <token>", "API token (BERTH_TOKEN, default: the one in ./data/admin.token)")
    .option("--fingerprint <sha256>", "trust only the HTTPS certificate with this SHA-256 fingerprint (BERTH_FINGERPRINT, default: ./data/server.crt's)")
    .addOption(new Option("--format <format>", "output format").choices(FORMATS).default("table"));

  program
    .command("serve")
    .description("Run the scheduling service")
    .option("--listen <addr>", "address to listen on, host:port; repeatable or comma separated (BERTH_LISTEN, default 127.0.0.1:8443)", collectListen)
    .option("--data <dir>", "data directory (BERTH_DATA)", process.env.BERTH_DATA ?? "./data")
    .option("--tls", "serve HTTPS on loopback addresses too (BERTH_TLS=1); other addresses always get HTTPS")
    .option("--tls-cert <file>", "PEM certificate to serve instead of the generated <data>/server.crt (BERTH_TLS_CERT; with --tls-key)")
    .option("--tls-key <file>", "PEM private key of --tls-cert (BERTH_TLS_KEY)")
    .option("--store <url>", "postgres://user@host/database: a PostgreSQL store several replicas share (BERTH_STORE; default: SQLite in the data directory)")
    .option("--replica-name <name>", "this replica's name among several on one PostgreSQL (BERTH_REPLICA_NAME, default hostname-pid)")
    .option("--local-member", "run the embedded local member (the default on SQLite; off with --store postgres://...)")
    .option("--no-local-member", "do not run the embedded local member")
    .option("--unix <path>", "the local unix socket, whose users are admin (BERTH_UNIX, default <data>/unix.socket)", process.env.BERTH_UNIX || undefined)
    .option("--no-unix", "do not listen on a unix socket (BERTH_NO_UNIX=1)")
    .action(async (opts: { listen?: string[]; data: string; tls?: boolean; tlsCert?: string; tlsKey?: string; localMember?: boolean; unix?: string | boolean; store?: string; replicaName?: string }) => {
      // Loaded on demand so client commands do not pay for the server's modules at startup.
      const { startServer } = await import("./serve.ts");
      const running = await startServer({
        listen: opts.listen ?? process.env.BERTH_LISTEN ?? "127.0.0.1:8443",
        tls: opts.tls === true || process.env.BERTH_TLS === "1",
        tlsCertFile: opts.tlsCert ?? (process.env.BERTH_TLS_CERT || undefined),
        tlsKeyFile: opts.tlsKey ?? (process.env.BERTH_TLS_KEY || undefined),
        dataDir: opts.data,
        store: opts.store ?? (process.env.BERTH_STORE || undefined),
        replicaName: opts.replicaName ?? (process.env.BERTH_REPLICA_NAME || undefined),
        // Unset: the store decides (on with SQLite, off with PostgreSQL).
        localMember: process.env.BERTH_NO_LOCAL_MEMBER === "1" ? false : opts.localMember,
        unix: opts.unix === false || process.env.BERTH_NO_UNIX === "1" ? false : typeof opts.unix === "string" ? opts.unix : undefined,
        adminToken: process.env.BERTH_ADMIN_TOKEN || undefined,
      });
      running.berth.services.logger.info(
        { urls: running.listeners.map((l) => l.url), unix: running.socketPath, fingerprint: running.fingerprint, data: opts.data },
        "berth is listening",
      );
      const stop = async () => {
        await running.close();
        process.exit(0);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });

  const name = commandName(args);
  if (name === "serve") return program;
  const named = GROUPS.filter(([group]) => group === name);
  const registers = await Promise.all((named.length > 0 ? named : GROUPS).map(([, load]) => load()));
  for (const register of registers) register(program);
  return program;
}

/** Prints an error the way the CLI reports it and returns the exit code. */
function reportError(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode; // commander already printed it (or the help)
  if (err instanceof CliError) {
    process.stderr.write(`Error: ${err.message}\n`);
    return err.exitCode;
  }
  const error = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`Error: ${error.message}\n`);
  if (process.env.BERTH_DEBUG) process.stderr.write(`${error.stack ?? ""}\n`);
  return 1;
}

/** Runs the CLI; sets process.exitCode rather than exiting, so stdout is flushed and tests can call it. */
export async function main(argv: string[]): Promise<void> {
  try {
    await (await buildProgram(argv.slice(2))).parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err);
  }
}
