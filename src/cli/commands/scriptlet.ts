/** `berth scriptlet show|set|unset|test`: the placement scriptlet (instances.placement.scriptlet). */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { CliError } from "../client.ts";
import { contextOf } from "../context.ts";
import { addPlacementRequestOptions, placementQueryBody, printPlacement, type PlacementAnswer, type QueryOptions } from "./placement.ts";

const KEY = "instances.placement.scriptlet";

/** Reads FILE, or stdin for "-". */
async function readSource(file: string): Promise<string> {
  if (file !== "-") {
    try {
      return await readFile(file, "utf8");
    } catch (err) {
      throw new CliError(`Cannot read scriptlet file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

export function registerScriptletCommands(program: Command): void {
  const scriptlet = program.command("scriptlet").description("The placement scriptlet: show, install, remove, test");

  scriptlet
    .command("show")
    .description("Print the installed placement scriptlet")
    .action(async (_opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const info = await client.get<{ effective_config: Record<string, unknown> }>("/1.0");
      const source = String(info.effective_config[KEY] ?? "");
      if (out.format !== "table") return out.object({ [KEY]: source });
      out.line(source === "" ? "No placement scriptlet is installed: built-in placement is used." : source.replace(/\n$/, ""));
    });

  scriptlet
    .command("set")
    .description("Validate, try once against the live cluster and install a scriptlet from FILE (- for stdin); one that is invalid or fails its trial placement is refused and the old one kept")
    .argument("<file>", "JavaScript file defining instance_placement(request, candidate_members)")
    .option("--force", "install even if the trial placement throws, times out or runs out of memory (it is not run)")
    .action(async (file: string, opts: { force?: boolean }, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const source = await readSource(file);
      if (source.trim() === "") throw new CliError(`${file} is empty; use "berth scriptlet unset" to go back to built-in placement`);
      const explicit = await client.patch<Record<string, unknown>>("/1.0", { config: { [KEY]: source } }, opts.force ? { force: true } : undefined);
      out.done(`Placement scriptlet installed from ${file}${client.lastNotice ? `. ${client.lastNotice}` : ""}`, explicit);
    });

  scriptlet
    .command("unset")
    .description("Remove the scriptlet: built-in placement again")
    .action(async (_opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const explicit = await client.patch<Record<string, unknown>>("/1.0", { config: { [KEY]: null } });
      out.done("Placement scriptlet removed: built-in placement is used", explicit);
    });

  addPlacementRequestOptions(scriptlet
    .command("test")
    .description("Run FILE (not installed) against the live cluster for one placement: decision, logs, timing")
    .argument("<file>", "JavaScript file, or - for stdin"))
    .action(async (file: string, opts: QueryOptions, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const source = await readSource(file);
      const answer = await client.post<PlacementAnswer>("/1.0/scheduler/scriptlet/test", { ...placementQueryBody(opts), source });
      printPlacement(out, answer);
      if (out.format === "table" && !answer.scriptlet.called) out.line("Scriptlet: not called (no candidate to choose from)");
      throwIfTestFailed(file, answer);
    });
}

/** A test whose scriptlet broke, refused, or could not be run at all exits 1 (the answer is printed first). */
function throwIfTestFailed(file: string, answer: PlacementAnswer): void {
  const { scriptlet } = answer;
  file = file === "-" ? "The scriptlet from stdin" : `Scriptlet ${file}`;
  if (!scriptlet.called) throw new CliError(`${file} was not called: no member can take the instance (${answer.error ?? "no candidate"})`);
  if (scriptlet.error) throw new CliError(`${file} failed: ${scriptlet.error}`);
  if (scriptlet.rejected) throw new CliError(`${file} refused the placement: ${scriptlet.rejected}`);
}
