/** The `berth` command: the service (`serve`) and a CLI client of the HTTP API. */
import { Command, CommanderError, Option } from "commander";
import { CliError } from "./client.ts";
import { registerClusterCommands } from "./commands/cluster.ts";
import { registerConfigCommands } from "./commands/config.ts";
import { registerInstanceCommands } from "./commands/instance.ts";
import { registerMonitorCommand } from "./commands/monitor.ts";
import { registerOperationCommands } from "./commands/operation.ts";
import { registerPlacementCommands } from "./commands/placement.ts";
import { registerProjectCommands } from "./commands/project.ts";
import { registerScriptletCommands } from "./commands/scriptlet.ts";
import { registerStorageCommands } from "./commands/storage.ts";
import { registerTokenCommands } from "./commands/token.ts";
import { FORMATS } from "./output.ts";

export function buildProgram(): Command {
  const program = new Command("berth").description("Berth: placement scheduler for clusters").showHelpAfterError("(add --help for usage)");
  // Errors become exceptions that main() turns into an exit code (no process.exit mid-flight); subcommands inherit this.
  program.exitOverride();
  program
    .option("--url <url>", "Berth service URL (BERTH_URL, default http://127.0.0.1:8443)")
    .option("--token <token>", "API token (BERTH_TOKEN, default: the one in ./data/admin.token)")
    .addOption(new Option("--format <format>", "output format").choices(FORMATS).default("table"));

  program
    .command("serve")
    .description("Run the scheduling service")
    .option("--listen <addr>", "address to listen on (BERTH_LISTEN)", process.env.BERTH_LISTEN ?? "127.0.0.1:8443")
    .option("--data <dir>", "data directory (BERTH_DATA)", process.env.BERTH_DATA ?? "./data")
    .option("--no-local-member", "do not run the embedded local member")
    .action(async (opts: { listen: string; data: string; localMember: boolean }) => {
      // Loaded on demand so client commands do not pay for the server's modules at startup.
      const { startServer } = await import("./serve.ts");
      const running = await startServer({
        listen: opts.listen,
        dataDir: opts.data,
        localMember: opts.localMember && process.env.BERTH_NO_LOCAL_MEMBER !== "1",
        adminToken: process.env.BERTH_ADMIN_TOKEN || undefined,
      });
      running.berth.services.logger.info({ url: running.url, data: opts.data }, "berth is listening");
      const stop = async () => {
        await running.close();
        process.exit(0);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });

  registerClusterCommands(program);
  registerStorageCommands(program);
  registerProjectCommands(program);
  registerInstanceCommands(program);
  registerPlacementCommands(program);
  registerScriptletCommands(program);
  registerConfigCommands(program);
  registerOperationCommands(program);
  registerMonitorCommand(program);
  registerTokenCommands(program);
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
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err);
  }
}
