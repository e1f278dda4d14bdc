/** The `berth` command: the service (`serve`) and a CLI client of the HTTP API. */
import { Command } from "commander";
import { startServer } from "./serve.ts";

export function buildProgram(): Command {
  const program = new Command("berth").description("Berth: placement scheduler for clusters").showHelpAfterError();
  program
    .command("serve")
    .description("Run the scheduling service")
    .option("--listen <addr>", "address to listen on (BERTH_LISTEN)", process.env.BERTH_LISTEN ?? "127.0.0.1:8443")
    .option("--data <dir>", "data directory (BERTH_DATA)", process.env.BERTH_DATA ?? "./data")
    .option("--no-local-member", "do not run the embedded local member")
    .action(async (opts: { listen: string; data: string; localMember: boolean }) => {
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
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
