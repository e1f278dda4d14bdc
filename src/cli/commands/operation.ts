/** `berth operation ...`: async operations — list, show, wait, cancel. */
import type { Command } from "commander";
import type { Operation } from "../../domain/types.ts";
import { parseCount } from "../args.ts";
import { CliError } from "../client.ts";
import { contextOf, seg } from "../context.ts";
import type { Column } from "../output.ts";

const OPERATION_COLUMNS: Column<Operation>[] = [
  { header: "ID", value: (o) => o.id },
  { header: "DESCRIPTION", value: (o) => o.description },
  { header: "STATUS", value: (o) => o.status },
  { header: "CANCELABLE", value: (o) => (o.may_cancel ? "YES" : "NO") },
  { header: "CREATED", value: (o) => o.created_at },
  { header: "ERROR", value: (o) => o.err },
];

export function registerOperationCommands(program: Command): void {
  const operation = program.command("operation").description("Inspect, wait for and cancel async operations");

  operation
    .command("list")
    .alias("ls")
    .description("List operations")
    .action(async (_opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      // Grouped by status, as LXD lists them.
      const byStatus = await client.get<Record<string, Operation[]>>("/1.0/operations", { recursion: 1 });
      const operations = Object.values(byStatus).flat().sort((a, b) => a.created_at.localeCompare(b.created_at));
      out.list(operations, OPERATION_COLUMNS);
    });

  operation
    .command("show")
    .description("Show an operation")
    .argument("<id>", "operation id")
    .action(async (id: string, _opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      out.object(await client.get<Operation>(`/1.0/operations/${seg(id)}`));
    });

  operation
    .command("wait")
    .description("Wait until an operation ends; exits non-zero unless it succeeded")
    .argument("<id>", "operation id")
    .option("--timeout <seconds>", "give up after this many seconds (default: wait for ever)")
    .action(async (id: string, opts: { timeout?: string }, cmd: Command) => {
      const timeout = opts.timeout === undefined ? -1 : parseCount(opts.timeout, "--timeout", true);
      const { client, out } = contextOf(cmd);
      const op = await client.waitOperation(id, timeout);
      out.done(`Operation ${op.id}: ${op.status}${op.err ? ` (${op.err})` : ""}`, op);
      if (op.status === "Success") return;
      if (op.status === "Running" || op.status === "Pending") {
        throw new CliError(`Operation ${op.id} is still ${op.status} after ${timeout}s`);
      }
      throw new CliError(`Operation ${op.id} ended ${op.status}${op.err ? `: ${op.err}` : ""}`);
    });

  operation
    .command("cancel")
    .description("Cancel a running operation")
    .argument("<id>", "operation id")
    .action(async (id: string, _opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const op = await client.delete<Operation>(`/1.0/operations/${seg(id)}`);
      out.done(`Cancellation of operation ${id} requested`, op);
    });
}
