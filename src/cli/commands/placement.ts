/** `berth placement query`: where would this instance go, and why not elsewhere (a dry run; nothing is reserved). */
import type { Command } from "commander";
import { Option } from "../commander.ts";
import { PLACEMENT_REASONS } from "../../domain/types.ts";
import { addResourceOptions, checkInstanceType, instanceResources, splitList, type InstanceResourceOptions } from "../args.ts";
import { CliError } from "../client.ts";
import { contextOf } from "../context.ts";
import { size, type Column, type Output } from "../output.ts";

/** What the scriptlet did during the query (`scriptlet` in the answer). */
export interface ScriptletReport {
  called: boolean;
  target: string | null;
  /** The scriptlet's message when it refused the placement. */
  rejected?: string | null;
  logs: { level: string; message: string }[];
  duration_ms: number;
  error: string | null;
}

export interface PlacementCandidate {
  server_name: string;
  rank: number;
  instance_count: number;
  pending: number;
  free: { cpu: number; memory: number; disk: number | null; gpu: number; reported_memory: number };
  allocated: number;
  /** What its instances and placements in flight request (bytes): the count strategy's tie-break. */
  requested_memory: number;
}

export interface PlacementAnswer {
  target: string | null;
  candidates: PlacementCandidate[];
  rejected: Record<string, string>;
  /** Members dropped for lack of resources: every resource short (cpu in cores, memory and disk in bytes, gpu in cards). */
  insufficient: Record<string, { resource: string; requested: number; allocated: number; capacity: number; pool?: string }[]>;
  scriptlet: ScriptletReport;
  /** Why there is no target: the error a create of this request would answer. */
  error: string | null;
  /** The HTTP status that create would answer (409 nothing fits, 400 the scriptlet refused or failed); null with a target. */
  error_code: number | null;
}

export interface QueryOptions extends InstanceResourceOptions {
  name?: string;
  project?: string;
  type?: string;
  arch?: string;
  target?: string;
  reason?: string;
  exclude?: string;
}

/** The POST /1.0/scheduler/placement body for `placement query`. */
export function placementQueryBody(opts: QueryOptions): Record<string, unknown> {
  checkInstanceType(opts.type);
  const { config, devices } = instanceResources(opts);
  const body: Record<string, unknown> = { config, devices };
  if (opts.name) body.name = opts.name;
  if (opts.project) body.project = opts.project;
  if (opts.type) body.type = opts.type;
  if (opts.arch) body.architecture = opts.arch;
  if (opts.target) body.target = opts.target;
  if (opts.reason) body.reason = opts.reason;
  if (opts.exclude) body.exclude = splitList(opts.exclude);
  return body;
}

/** 2 decimals at most: free cpu is a sum of fractional requests. */
const cores = (n: number) => String(Math.round(n * 100) / 100);
const percent = (fraction: number) => `${Math.round(fraction * 1000) / 10}%`;

const CANDIDATE_COLUMNS: Column<PlacementCandidate>[] = [
  { header: "RANK", value: (c) => c.rank },
  { header: "MEMBER", value: (c) => c.server_name },
  { header: "INSTANCES", value: (c) => c.instance_count },
  { header: "PENDING", value: (c) => c.pending },
  { header: "FREE CPU", value: (c) => cores(c.free.cpu) },
  { header: "FREE MEMORY", value: (c) => size(c.free.memory) },
  { header: "ALLOCATED", value: (c) => percent(c.allocated) },
];

const REJECTED_COLUMNS: Column<[string, string]>[] = [
  { header: "MEMBER", value: ([member]) => member },
  { header: "REASON", value: ([, reason]) => reason },
];

/** "Scriptlet: chose n2 in 1.5 ms" and its log lines, or what went wrong. */
export function scriptletLines(s: ScriptletReport): string[] {
  const took = `${Math.round(s.duration_ms * 10) / 10} ms`;
  const head = s.error
    ? `Scriptlet: failed after ${took}: ${s.error}`
    : s.rejected
      ? `Scriptlet: rejected the placement in ${took}: ${s.rejected}`
      : s.target
        ? `Scriptlet: chose ${s.target} in ${took}`
        : `Scriptlet: ran in ${took}, kept the built-in choice`;
  return [head, ...s.logs.map((l) => `  ${l.level}: ${l.message}`)];
}

/** The answer for people: the target, the ranked candidates, the rejected members, the scriptlet. */
export function printPlacement(out: Output, answer: PlacementAnswer): void {
  if (out.format !== "table") return out.object(answer);
  out.line(answer.target ? `Target: ${answer.target}` : `No member can take it: ${answer.error ?? "no candidate"}`);
  if (answer.candidates.length > 0) {
    out.line("Candidates (best first):");
    out.list(answer.candidates, CANDIDATE_COLUMNS);
  }
  const rejected = Object.entries(answer.rejected);
  if (rejected.length > 0) {
    out.line("Rejected:");
    out.list(rejected, REJECTED_COLUMNS);
  }
  if (answer.scriptlet?.called) for (const line of scriptletLines(answer.scriptlet)) out.line(line);
}

/** The options that describe the instance to place: shared by `placement query` and `scriptlet test`. */
export function addPlacementRequestOptions(command: Command): Command {
  return addResourceOptions(command)
    .option("--name <name>", "instance name (scriptlets may look at it)")
    .option("--project <project>", "project (default \"default\")")
    .option("--type <type>", "container or virtual-machine (default container)")
    .option("--arch <architecture>", "architecture, e.g. x86_64 or aarch64")
    .option("--target <member|@group>", "a member, or @group for any member of a group")
    .addOption(new Option("--reason <reason>", "why it is being placed (default new)").choices(PLACEMENT_REASONS))
    .option("--exclude <members>", "members to leave out, comma separated (e.g. the member being evacuated)")
;
}

export function registerPlacementCommands(program: Command): void {
  const placement = program.command("placement").description("Ask the scheduler");

  addPlacementRequestOptions(placement
    .command("query")
    .description("Where the scheduler would place an instance, the ranked candidates and why others are rejected (changes nothing)"))
    .action(async (opts: QueryOptions, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const answer = await client.post<PlacementAnswer>("/1.0/scheduler/placement", placementQueryBody(opts));
      printPlacement(out, answer);
      // As a create would fail, so does the query: scripts can test `berth placement query` directly.
      if (!answer.target) throw new CliError(`no target: a create would be refused (${answer.error_code ?? "no candidate"})`);
    });
}
