/** `berth monitor`: prints events from /1.0/events as they arrive, until interrupted. */
import type { Command } from "commander";
import type { BerthEvent } from "../../domain/types.ts";
import { CliError } from "../client.ts";
import { contextOf } from "../context.ts";
import { toYaml } from "../output.ts";

const EVENT_TYPES = ["lifecycle", "operation", "logging"];

function scalars(map: unknown): string {
  if (!map || typeof map !== "object") return "";
  return Object.entries(map)
    .filter(([, v]) => v !== null && v !== undefined && v !== "" && typeof v !== "object")
    .map(([k, v]) => ` ${k}=${String(v)}`)
    .join("");
}

/** The one-line summary: the lifecycle action, the operation's status, or the log message. */
export function summarizeEvent(event: BerthEvent): string {
  const m = event.metadata;
  if (event.type === "lifecycle") return `${String(m.action)} ${String(m.source ?? "")}${scalars(m.context)}`.trimEnd();
  if (event.type === "operation") {
    const progress = (m.metadata as Record<string, unknown> | undefined)?.evacuation_progress;
    const parts = [String(m.description ?? ""), String(m.status ?? ""), `(${String(m.id ?? "")})`];
    if (typeof progress === "string") parts.push(`- ${progress}`);
    if (m.err) parts.push(`- ${String(m.err)}`);
    return parts.join(" ");
  }
  const { level, message, ...rest } = m;
  return `${String(level ?? "info")} ${String(message ?? "")}${scalars(rest)}${scalars(rest.context)}`;
}

/** "lifecycle,operation" → ["lifecycle", "operation"]; undefined means every type. */
export function parseEventTypes(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const types = text.split(",").map((t) => t.trim()).filter(Boolean);
  for (const type of types) {
    if (!EVENT_TYPES.includes(type)) throw new CliError(`--type: unknown event type "${type}" (use ${EVENT_TYPES.join(", ")})`);
  }
  return types;
}

export function registerMonitorCommand(program: Command): void {
  program
    .command("monitor")
    .description("Print events as they happen (lifecycle, operation, logging) until interrupted")
    .option("--type <types>", "comma separated event types (default: all)")
    .action(async (opts: { type?: string }, cmd: Command) => {
      const types = parseEventTypes(opts.type);
      const { client, out } = contextOf(cmd);
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      try {
        await client.streamEvents(types?.join(","), (name, data) => {
          if (name === "ready") {
            process.stderr.write(`Listening for ${types?.join(", ") ?? "all"} events from ${client.connection.url} (Ctrl-C to stop)\n`);
            return;
          }
          if (name === "dropped") {
            process.stderr.write(`Warning: the service dropped events for this slow reader: ${data}\n`);
            return;
          }
          if (out.format === "json") return out.line(data);
          let event: BerthEvent;
          try {
            event = JSON.parse(data) as BerthEvent;
          } catch {
            return out.line(`${new Date().toISOString()} ${name} ${data}`);
          }
          if (out.format === "yaml") return out.line(`---\n${toYaml(event).trimEnd()}`);
          out.line(`${event.timestamp} ${event.type} ${summarizeEvent(event)}`);
        }, controller.signal);
      } finally {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
      }
    });
}
