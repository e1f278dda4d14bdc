/** How commands print: tables for people (cli-table3), or the API's metadata as JSON or YAML for programs. */
import { createRequire } from "node:module";
import type Table from "cli-table3";
import { formatSize } from "../domain/units.ts";
import { CliError } from "./client.ts";

// yaml costs ~130 ms to load, a fifth of a CLI call: loaded only when something is printed as
// YAML; cli-table3 only when a table is printed (not for JSON, nor for commands that print none).
const requireModule = createRequire(import.meta.url);
let yamlModule: typeof import("yaml") | undefined;
let tableClass: typeof Table | undefined;

/** YAML text of a value (LXD's `show` format). */
export function toYaml(value: unknown): string {
  yamlModule ??= requireModule("yaml") as typeof import("yaml");
  return yamlModule.stringify(value);
}

export const FORMATS = ["table", "json", "yaml"] as const;
export type Format = (typeof FORMATS)[number];

export function parseFormat(value: string): Format {
  if (!(FORMATS as readonly string[]).includes(value)) {
    throw new CliError(`--format must be one of ${FORMATS.join(", ")}, got "${value}"`);
  }
  return value as Format;
}

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
}

export class Output {
  constructor(
    readonly format: Format,
    private readonly write: (text: string) => void = (text) => process.stdout.write(text),
  ) {}

  /** A list: one table row per item, or the metadata exactly as the API returned it. */
  list<T>(rows: T[], columns: Column<T>[], metadata: unknown = rows): void {
    if (this.structured(metadata)) return;
    const table = newTable(columns.map((c) => c.header));
    for (const row of rows) table.push(columns.map((c) => cell(c.value(row))));
    this.write(`${table.toString()}\n`);
  }

  /** One object: a FIELD / VALUE table (nested values as YAML), or the metadata. */
  object(metadata: object): void {
    if (this.structured(metadata)) return;
    const table = newTable(["FIELD", "VALUE"], true);
    for (const [key, value] of Object.entries(metadata)) table.push([key, cell(value)]);
    this.write(`${table.toString()}\n`);
  }

  /** A flat map (configuration): KEY / VALUE rows, or the map itself. */
  keyValues(map: Record<string, unknown>, headers: [string, string] = ["KEY", "VALUE"]): void {
    if (this.structured(map)) return;
    const table = newTable(headers, true);
    for (const key of Object.keys(map).sort()) table.push([key, cell(map[key])]);
    this.write(`${table.toString()}\n`);
  }

  /** A single value: printed bare in table format (so scripts can capture it). */
  value(value: unknown): void {
    if (this.structured(value)) return;
    this.write(`${typeof value === "string" ? value : cell(value)}\n`);
  }

  /** The outcome of a change: a sentence for people, the resulting metadata for programs. */
  done(message: string, metadata?: unknown): void {
    if (metadata !== undefined && this.structured(metadata)) return;
    this.write(`${message}\n`);
  }

  /** A line that is printed in every format (e.g. `monitor` in table format). */
  line(text: string): void {
    this.write(`${text}\n`);
  }

  private structured(metadata: unknown): boolean {
    if (this.format === "json") this.write(`${JSON.stringify(metadata, null, 2)}\n`);
    else if (this.format === "yaml") this.write(toYaml(metadata));
    else return false;
    return true;
  }
}

/** Lists get a rule between rows as lxc prints them; FIELD/VALUE tables are compact. */
function newTable(head: string[], compact = false): Table.Table {
  tableClass ??= requireModule("cli-table3") as typeof Table;
  return new tableClass({ head, style: { head: process.stdout.isTTY ? ["bold"] : [], border: [], compact } });
}

/** A cell's text: scalars as themselves, lists of scalars comma-joined, anything else as YAML. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value.replace(/\n+$/, "");
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value) && value.every((v) => v === null || typeof v !== "object")) return value.join(", ");
  if (typeof value === "object" && Object.keys(value).length === 0) return "";
  return toYaml(value).trimEnd();
}

/** "1.5GiB" for bytes, "" for nothing. */
export function size(bytes: number | undefined | null): string {
  return bytes === undefined || bytes === null ? "" : formatSize(bytes);
}
