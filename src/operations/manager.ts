/**
 * Async operations: persisted records with progress metadata, wait, cancel, and resume after a
 * restart. A runner is registered per kind; a runner must be idempotent, because an operation
 * that was Running when the service died is run again from its stored input on the next start.
 */
import { randomUUID } from "node:crypto";
import { BerthError, notFound, toError } from "../domain/errors.ts";
import { OPERATION_STATUS_CODES, type Operation, type OperationStatus } from "../domain/types.ts";
import type { EventBus } from "../events/bus.ts";
import type { OperationRecord, Store } from "../store/store.ts";

export interface OperationContext {
  readonly id: string;
  readonly signal: AbortSignal;
  /** Merges keys into the operation's metadata, persists it and emits an operation event. */
  progress(metadata: Record<string, unknown>): void;
  /** True when this run resumes an operation interrupted by a restart. */
  readonly resumed: boolean;
}

/** Returns the final metadata to merge; throwing fails the operation with that message. */
export type OperationRunner = (ctx: OperationContext, input: unknown) => Promise<Record<string, unknown> | void>;

export interface StartOptions {
  kind: string;
  description: string;
  resources?: Record<string, string[]>;
  metadata?: Record<string, unknown>;
  input?: unknown;
  mayCancel?: boolean;
}

const PERSIST_EVERY_MS = 100;
const PRUNE_EVERY_MS = 60_000;
const FINAL: ReadonlySet<OperationStatus> = new Set(["Success", "Failure", "Cancelled"]);

export class OperationManager {
  private readonly runners = new Map<string, OperationRunner>();
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private lastPrune = -Infinity;

  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
    private readonly now: () => number = Date.now,
    private readonly onError: (err: Error, op: string) => void = () => {},
    /** How long a finished operation is kept, in ms (operations.retention). */
    private readonly retentionMs: () => number = () => 86_400_000,
    /** Where operations run (the API's `location`, as LXD names the member). */
    private readonly location = "",
  ) {}

  /** An operation as the API shows it: without the stored kind and input, with where it runs. */
  view(op: Operation | OperationRecord): Operation {
    return { ...toApiOperation(op), location: this.location };
  }

  /** Forgets finished operations older than the retention (at most once a minute unless forced). */
  prune(force = false): number {
    const now = this.now();
    if (!force && now - this.lastPrune < PRUNE_EVERY_MS) return 0;
    this.lastPrune = now;
    return this.store.pruneOperations(now - this.retentionMs());
  }

  register(kind: string, runner: OperationRunner): void {
    this.runners.set(kind, runner);
  }

  /** Persists a new operation and starts running it; returns it (as the API shows it) at once. */
  start(opts: StartOptions): Operation {
    const runner = this.runners.get(opts.kind);
    if (!runner) throw new Error(`no runner registered for operation kind "${opts.kind}"`);
    const id = randomUUID();
    this.prune();
    this.store.insertOperation({
      id, kind: opts.kind, description: opts.description, resources: opts.resources ?? {},
      metadata: opts.metadata ?? {}, input: opts.input ?? {}, mayCancel: opts.mayCancel ?? false,
    }, this.now());
    const record = this.store.getOperation(id)!;
    this.emit(record);
    this.launch(record, runner, false);
    return this.view(record);
  }

  get(id: string): OperationRecord {
    const op = this.store.getOperation(id);
    if (!op) throw notFound(`Operation "${id}" not found`);
    return op;
  }

  list(): OperationRecord[] {
    return this.store.listOperations();
  }

  isRunning(id: string): boolean {
    return this.running.has(id);
  }

  /** Resolves when the operation is final or the timeout passes (timeoutS < 0 waits for ever). */
  async wait(id: string, timeoutS: number): Promise<OperationRecord> {
    const op = this.get(id);
    if (FINAL.has(op.status) || timeoutS === 0) return op;
    await new Promise<void>((resolve) => {
      const set = this.waiters.get(id) ?? new Set();
      this.waiters.set(id, set);
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        set.delete(done);
        resolve();
      };
      set.add(done);
      if (timeoutS > 0) timer = setTimeout(done, timeoutS * 1000);
    });
    return this.get(id);
  }

  cancel(id: string): OperationRecord {
    const op = this.get(id);
    if (FINAL.has(op.status)) throw new BerthError(400, `Operation "${id}" already finished (${op.status})`);
    if (!op.may_cancel) throw new BerthError(403, `Operation "${id}" cannot be cancelled`);
    this.running.get(id)?.controller.abort();
    return op;
  }

  /**
   * On start: operations still Running belonged to a process that died. Resume those whose
   * runner exists; fail the others, saying so.
   */
  resumeInterrupted(): number {
    let resumed = 0;
    for (const op of this.store.listOperations(["Running", "Pending"])) {
      const runner = this.runners.get(op.kind);
      if (!runner) {
        this.finish(op.id, "Failure", {}, "Interrupted by a restart of the service");
        continue;
      }
      this.launch(op, runner, true);
      resumed++;
    }
    return resumed;
  }

  /** Waits for every running operation to settle (used on shutdown and in tests). */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()].map((r) => r.done));
  }

  private launch(record: OperationRecord, runner: OperationRunner, resumed: boolean): void {
    const controller = new AbortController();
    let metadata = { ...record.metadata };
    // Every progress call is an event; the stored copy is written at most every PERSIST_EVERY_MS
    // (and always when the operation ends), so a thousand steps do not mean a thousand writes.
    let lastPersist = 0;
    let trailing: NodeJS.Timeout | null = null;
    const persist = () => {
      trailing = null;
      lastPersist = Date.now();
      if (this.running.has(record.id)) this.store.updateOperation(record.id, { metadata }, this.now());
    };
    const ctx: OperationContext = {
      id: record.id,
      signal: controller.signal,
      resumed,
      progress: (patch) => {
        metadata = { ...metadata, ...patch };
        if (Date.now() - lastPersist >= PERSIST_EVERY_MS) persist();
        else trailing ??= setTimeout(persist, PERSIST_EVERY_MS);
        this.emit({ ...record, status: "Running", status_code: OPERATION_STATUS_CODES.Running, metadata, updated_at: new Date(this.now()).toISOString() });
      },
    };
    const done = (async () => {
      await Promise.resolve(); // the caller gets the record before any work happens
      try {
        if (controller.signal.aborted) throw new BerthError(400, "Cancelled before it started");
        const result = await runner(ctx, record.input);
        if (controller.signal.aborted) this.finish(record.id, "Cancelled", { ...metadata, ...result }, "Cancelled by request");
        else this.finish(record.id, "Success", { ...metadata, ...result }, "");
      } catch (thrown) {
        const err = toError(thrown);
        if (!(err instanceof BerthError)) this.onError(err, record.id);
        const status = controller.signal.aborted ? "Cancelled" : "Failure";
        const extra = err instanceof BerthError && err.details && typeof err.details === "object" ? err.details as Record<string, unknown> : {};
        this.finish(record.id, status, { ...metadata, ...extra }, err.message);
      } finally {
        if (trailing) clearTimeout(trailing);
        this.running.delete(record.id);
      }
    })();
    this.running.set(record.id, { controller, done });
  }

  private finish(id: string, status: OperationStatus, metadata: Record<string, unknown>, err: string): void {
    this.store.updateOperation(id, { status, metadata, err, mayCancel: false }, this.now());
    this.emit(this.store.getOperation(id)!);
    for (const wake of [...(this.waiters.get(id) ?? [])]) wake();
    this.waiters.delete(id);
  }

  private emit(op: Operation): void {
    this.bus.emit("operation", this.view(op) as unknown as Record<string, unknown>);
  }
}

/** The API shape: drops the stored kind and input. */
export function toApiOperation(op: Operation | OperationRecord): Operation {
  const { kind: _kind, input: _input, ...rest } = op as OperationRecord;
  return rest;
}
