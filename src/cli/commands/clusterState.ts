/**
 * `berth cluster evacuate|evac` and `berth cluster restore`: the member state changes of DESIGN §5,
 * asked for unless --force, followed live while they run, summed up per instance at the end.
 */
import type { Command } from "commander";
import { Option } from "../commander.ts";
import type { Operation } from "../../domain/types.ts";
import { CliError, throwIfUnsuccessful, type BerthClient } from "../client.ts";
import { contextOf, seg } from "../context.ts";
import type { Column, Output } from "../output.ts";

// progress.ts and prompt.ts (readline) are loaded when a state change runs, not for every `berth cluster` call.
async function confirm(what: string, force: boolean | undefined): Promise<void> {
  await (await import("../prompt.ts")).confirm(what, force);
}

export const EVACUATE_MODES = ["auto", "migrate", "live-migrate", "stop", "force-stop"] as const;

/** One instance of an evacuation plan (dry run). */
export interface PlanEntry {
  project: string;
  name: string;
  status: string;
  action: string;
  /** Where it goes, or null: it stays on the member. */
  target: string | null;
  /** How it travels between lxd agents: migrate (its root filesystem goes along) or recreate (from its image). */
  method?: string;
  why: string;
}

/** One instance in the result of an evacuation (`instances` in the operation's metadata). */
export interface InstanceOutcome extends PlanEntry {
  outcome: "moved" | "stopped" | "stayed" | "failed" | "gone" | "cancelled";
  error?: string;
  /** Stopped in place because no member could take it (it was to move). */
  no_target?: true;
}

/** One instance in the result of a restore. */
export interface RestoreOutcome {
  project: string;
  name: string;
  action: "start" | "move-back";
  from: string;
  outcome: "started" | "moved" | "failed" | "gone" | "cancelled";
  error?: string;
}

interface EvacuationPlan {
  action: "evacuate";
  member: string;
  instances: PlanEntry[];
}

interface RestorePlanEntry {
  project: string;
  name: string;
  from: string;
}

interface RestorePlan {
  action: "restore";
  member: string;
  start: RestorePlanEntry[];
  move_back: RestorePlanEntry[];
}

const EVACUATION_PLAN_COLUMNS: Column<PlanEntry>[] = [
  { header: "INSTANCE", value: (e) => e.name },
  { header: "PROJECT", value: (e) => e.project },
  { header: "ACTION", value: (e) => e.action },
  { header: "TARGET", value: (e) => e.target },
  { header: "WHY", value: (e) => e.why },
];
/** With lxd agents: how each instance travels. */
const EVACUATION_PLAN_COLUMNS_WITH_METHOD: Column<PlanEntry>[] = [
  ...EVACUATION_PLAN_COLUMNS.slice(0, 4),
  { header: "METHOD", value: (e) => e.method ?? null },
  ...EVACUATION_PLAN_COLUMNS.slice(4),
];

const EVACUATION_COLUMNS: Column<InstanceOutcome>[] = [
  { header: "INSTANCE", value: (o) => o.name },
  { header: "PROJECT", value: (o) => o.project },
  { header: "ACTION", value: (o) => o.action },
  { header: "TARGET", value: (o) => o.target },
  { header: "OUTCOME", value: (o) => (o.no_target ? "stopped (no member could take it)" : o.outcome) },
  { header: "ERROR", value: (o) => o.error },
];

type RestoreRow = RestorePlanEntry & { action: "start" | "move back" };

const RESTORE_PLAN_COLUMNS: Column<RestoreRow>[] = [
  { header: "INSTANCE", value: (e) => e.name },
  { header: "PROJECT", value: (e) => e.project },
  { header: "ACTION", value: (e) => e.action },
  { header: "FROM", value: (e) => e.from },
];

const RESTORE_COLUMNS: Column<RestoreOutcome>[] = [
  { header: "INSTANCE", value: (o) => o.name },
  { header: "PROJECT", value: (o) => o.project },
  { header: "ACTION", value: (o) => (o.action === "move-back" ? "move back" : o.action) },
  { header: "FROM", value: (o) => o.from },
  { header: "OUTCOME", value: (o) => (o.outcome === "moved" ? "moved back" : o.outcome) },
  { header: "ERROR", value: (o) => o.error },
];

const tally = (rows: { outcome: string }[], outcome: string) => rows.filter((r) => r.outcome === outcome).length;

/** ", 2 cancelled" when the operation was cancelled before some instances' steps began. */
const cancelledPart = (rows: { outcome: string }[]) => (tally(rows, "cancelled") > 0 ? `, ${tally(rows, "cancelled")} cancelled` : "");

/** "Evacuated n1: 2 moved, 1 stopped, 0 failed" (", of which 1 because no member could take it" after the stops when so). */
export function evacuationSummary(member: string, outcomes: InstanceOutcome[]): string {
  const unplaced = unplacedOf(outcomes).length;
  const stopped = `${tally(outcomes, "stopped")} stopped${unplaced > 0 ? ` (${unplaced} because no member could take it)` : ""}`;
  return `Evacuated ${member}: ${tally(outcomes, "moved")} moved, ${stopped}, ${tally(outcomes, "failed")} failed${cancelledPart(outcomes)}`;
}

/** "Restored n1: 1 started, 2 moved back, 0 failed". */
export function restoreSummary(member: string, outcomes: RestoreOutcome[]): string {
  return `Restored ${member}: ${tally(outcomes, "started")} started, ${tally(outcomes, "moved")} moved back, ${tally(outcomes, "failed")} failed${cancelledPart(outcomes)}`;
}

/** Instances an evacuation stopped in place because nothing could take them. */
const unplacedOf = (rows: InstanceOutcome[]) => rows.filter((o) => o.outcome === "stopped" && o.no_target);

/**
 * An evacuation that succeeded but stopped instances it was to move did not do what was asked:
 * exit code 1, naming them (the operation itself succeeds, as in LXD).
 */
function throwIfStoppedInstead(rows: InstanceOutcome[]): void {
  const unplaced = unplacedOf(rows);
  if (unplaced.length === 0) return;
  throw new CliError(`${unplaced.length} instance(s) stopped instead of moved, as no member could take them: ${unplaced.map((o) => `${o.project}/${o.name}`).join(", ")}`);
}

interface StateOptions {
  mode?: string;
  dryRun?: boolean;
  force?: boolean;
}

/**
 * Runs the state change as an operation, with live progress, then prints the per-instance table
 * (or the final metadata as JSON/YAML) and the summary line; a failed operation is exit code 1.
 */
async function runStateChange<T>(
  client: BerthClient, out: Output, member: string, body: Record<string, unknown>,
  columns: Column<T>[], summary: (member: string, rows: T[]) => string, check: (rows: T[]) => void = () => {},
): Promise<void> {
  const { evacuationStep, followOperation, progressView } = await import("../progress.ts");
  const view = progressView();
  let started: string | undefined;
  let asking = false;
  const question = new AbortController();
  const what = `${body.action === "restore" ? "restore" : "evacuation"} of cluster member "${member}"`;
  const stopFollowing = () => {
    view.stop();
    process.stderr.write(started
      ? `\nStopped following operation ${started}; it goes on in the service (berth operation wait ${started}, berth operation cancel ${started})\n`
      : "\nInterrupted; the request may have been sent (see berth operation list)\n");
    process.exit(130);
  };
  // Ctrl-C on a terminal asks whether to cancel the operation (no new step begins, the ones in
  // flight finish); "no" goes on following, a second Ctrl-C stops following and leaves it running.
  // Without a terminal to ask on, Ctrl-C stops following.
  const interrupted = () => {
    if (asking) return;
    if (!started || !process.stdin.isTTY) return stopFollowing();
    const id = started;
    asking = true;
    void (async () => {
      const { ask } = await import("../prompt.ts");
      const answer = await ask(
        `\nCancel the ${what} (operation ${id})? Instances being moved now finish, the others stay where they are. (yes/no) [default=no]: `,
        process.stdin, process.stderr, question.signal,
      );
      if (question.signal.aborted) return;
      if (answer === null) return stopFollowing();
      if (["yes", "y"].includes(answer.trim().toLowerCase())) {
        try {
          await client.delete(`/1.0/operations/${seg(id)}`);
          process.stderr.write(`Cancelling operation ${id}: waiting for the steps in flight to finish\n`);
        } catch (err) {
          process.stderr.write(`Could not cancel operation ${id}: ${err instanceof Error ? err.message : String(err)}\n`);
        }
      }
      asking = false;
    })();
  };
  process.on("SIGINT", interrupted);
  let op: Operation;
  try {
    op = await followOperation(
      client,
      () => client.startOperation("POST", `/1.0/cluster/members/${seg(member)}/state`, { body }),
      (metadata) => {
        const step = evacuationStep(metadata);
        if (step && !asking) view.update(step);
      },
      (id) => { started = id; },
    );
  } finally {
    process.off("SIGINT", interrupted);
    question.abort(); // the operation ended while the question was open
    view.stop();
  }
  const metadata = op.metadata ?? {};
  // Without a per-instance list the operation failed before it got to the instances: only its error says what happened.
  const rows = Array.isArray(metadata.instances) ? (metadata.instances as T[]) : undefined;
  if (out.format !== "table") out.object(metadata);
  else if (rows) {
    if (rows.length > 0) out.list(rows, columns);
    out.line(summary(member, rows));
  }
  throwIfUnsuccessful(op);
  if (rows) check(rows);
}

export function registerStateCommands(cluster: Command): void {
  cluster
    .command("evacuate")
    .alias("evac")
    .description("Move or stop every instance of a member and take it out of placement (asks first unless --force)")
    .argument("<name>", "member name")
    .addOption(new Option("--mode <mode>", "what to do with each instance (default: its cluster.evacuate, else auto)").choices(EVACUATE_MODES))
    .option("--dry-run", "show what would happen to each instance, change nothing")
    .option("--force", "do not ask for confirmation")
    .action(async (name: string, opts: StateOptions, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const body: Record<string, unknown> = { action: "evacuate" };
      if (opts.mode) body.mode = opts.mode;
      if (opts.dryRun) {
        const plan = await client.post<EvacuationPlan>(`/1.0/cluster/members/${seg(name)}/state`, { ...body, dry_run: true });
        if (out.format === "table" && plan.instances.length === 0) return out.line(`Cluster member ${name} has no instances to evacuate`);
        return out.list(plan.instances, plan.instances.some((e) => e.method) ? EVACUATION_PLAN_COLUMNS_WITH_METHOD : EVACUATION_PLAN_COLUMNS, plan);
      }
      await confirm(`evacuate cluster member "${name}"`, opts.force);
      await runStateChange(client, out, name, body, EVACUATION_COLUMNS, evacuationSummary, throwIfStoppedInstead);
    });

  cluster
    .command("restore")
    .description("Bring a member back: start what its evacuation stopped, move back what it moved (asks first unless --force)")
    .argument("<name>", "member name")
    .addOption(new Option("--mode <mode>", "skip: only put the member back into placement, leave instances where they are").choices(["skip"]))
    .option("--dry-run", "show what would happen to each instance, change nothing")
    .option("--force", "do not ask for confirmation")
    .action(async (name: string, opts: StateOptions, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const body: Record<string, unknown> = { action: "restore" };
      if (opts.mode) body.mode = opts.mode;
      if (opts.dryRun) {
        const plan = await client.post<RestorePlan>(`/1.0/cluster/members/${seg(name)}/state`, { ...body, dry_run: true });
        const rows: RestoreRow[] = [
          ...plan.start.map((e) => ({ ...e, action: "start" as const })),
          ...plan.move_back.map((e) => ({ ...e, action: "move back" as const })),
        ];
        if (out.format === "table" && rows.length === 0) return out.line(`Cluster member ${name} has no instances to restore`);
        return out.list(rows, RESTORE_PLAN_COLUMNS, plan);
      }
      await confirm(`restore cluster member "${name}"`, opts.force);
      await runStateChange(client, out, name, body, RESTORE_COLUMNS, restoreSummary);
    });
}
