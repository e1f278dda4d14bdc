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
  /** What the starter handed over in memory (StartOptions.attached); undefined in a resumed run. */
  readonly attached: unknown;
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
  /** Handed to the runner in memory, not stored (e.g. a placement reservation). */
  attached?: unknown;
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
    /**
     * With several replicas: who runs an operation. A replica claims each operation it runs (the
     * claim ends with its process), and resumes only operations it could claim: those whose
     * replica died. Without (one process) every stored Running operation was this process's.
     */
    private readonly claims: OperationClaims | null = null,
  ) {}

  /** An operation as the API shows it: without the stored kind and input, with where it runs. */
  view(op: Operation | OperationRecord): Operation {
    return { ...toApiOperation(op), location: this.location };
  }

  /** Forgets finished operations older than the retention (at most once a minute unless forced). */
  async prune(force = false): Promise<number> {
    const now = this.now();
    if (!force && now - this.lastPrune < PRUNE_EVERY_MS) return 0;
    this.lastPrune = now;
    return this.store.pruneOperations(now - this.retentionMs());
  }

  register(kind: string, runner: OperationRunner): void {
    this.runners.set(kind, runner);
  }

  /** Persists a new operation and starts running it; returns it (as the API shows it) at once. */
  async start(opts: StartOptions): Promise<Operation> {
    const runner = this.runners.get(opts.kind);
    if (!runner) throw new Error(`no runner registered for operation kind "${opts.kind}"`);
    const id = randomUUID();
    await this.prune();
    await this.store.insertOperation({
      id, kind: opts.kind, description: opts.description, resources: opts.resources ?? {},
      metadata: opts.metadata ?? {}, input: opts.input ?? {}, mayCancel: opts.mayCancel ?? false,
    }, this.now());
    const record = (await this.store.getOperation(id))!;
    if (this.claims) await this.claims.claim(id);
    this.emit(record);
    this.launch(record, runner, false, opts.attached);
    return this.view(record);
  }

  async get(id: string): Promise<OperationRecord> {
    const op = await this.store.getOperation(id);
    if (!op) throw notFound(`Operation "${id}" not found`);
    return op;
  }

  list(): Promise<OperationRecord[]> {
    return this.store.listOperations();
  }

  isRunning(id: string): boolean {
    return this.running.has(id);
  }

  /** Resolves when the operation is final or the timeout passes (timeoutS < 0 waits for ever). */
  async wait(id: string, timeoutS: number): Promise<OperationRecord> {
    const op = await this.get(id);
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

  async cancel(id: string): Promise<OperationRecord> {
    const op = await this.get(id);
    if (FINAL.has(op.status)) throw new BerthError(400, `Operation "${id}" already finished (${op.status})`);
    if (!op.may_cancel) throw new BerthError(403, `Operation "${id}" cannot be cancelled`);
    this.running.get(id)?.controller.abort();
    return op;
  }

  /**
   * On start: operations still Running belonged to a process that died. Resume those whose
   * runner exists; fail the others, saying so.
   */
  async resumeInterrupted(): Promise<number> {
    let resumed = 0;
    for (const op of await this.store.listOperations(["Running", "Pending"])) {
      if (this.running.has(op.id)) continue;
      if (this.claims) {
        if (!(await this.claims.claim(op.id))) continue; // its replica is alive and runs it
        // It may have ended between the list and the claim: run only what is still unfinished.
        const now = await this.store.getOperation(op.id);
        if (!now || FINAL.has(now.status)) {
          await this.claims.release(op.id);
          continue;
        }
      }
      const runner = this.runners.get(op.kind);
      if (!runner) {
        await this.finish(op.id, "Failure", {}, "Interrupted by a restart of the service");
        continue;
      }
      this.launch(op, runner, true);
      resumed++;
    }
    return resumed;
  }

  /** Another replica finished this operation: whoever waits for it here reads it again. */
  wake(id: string): void {
    for (const wake of [...(this.waiters.get(id) ?? [])]) wake();
    this.waiters.delete(id);
  }

  /** Waits for every running operation to settle (used on shutdown and in tests). */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()].map((r) => r.done));
  }

  private launch(record: OperationRecord, runner: OperationRunner, resumed: boolean, attached?: unknown): void {
    const controller = new AbortController();
    let metadata = { ...record.metadata };
    // Every progress call is an event; the stored copy is written at most every PERSIST_EVERY_MS
    // (and always when the operation ends), so a thousand steps do not mean a thousand writes.
    let lastPersist = 0;
    let trailing: NodeJS.Timeout | null = null;
    // Writes of this operation's row, in order: the final one waits for those before it.
    let writes: Promise<void> = Promise.resolve();
    const persist = () => {
      trailing = null;
      lastPersist = Date.now();
      if (!this.running.has(record.id)) return;
      const snapshot = metadata;
      writes = writes.then(() => this.store.updateOperation(record.id, { metadata: snapshot }, this.now()))
        .catch((err) => this.onError(toError(err), record.id));
    };
    const ctx: OperationContext = {
      id: record.id,
      signal: controller.signal,
      resumed,
      attached,
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
        if (trailing) clearTimeout(trailing);
        await writes;
        if (controller.signal.aborted) await this.finish(record.id, "Cancelled", { ...metadata, ...result }, "Cancelled by request");
        else await this.finish(record.id, "Success", { ...metadata, ...result }, "");
      } catch (thrown) {
        const err = toError(thrown);
        if (!(err instanceof BerthError)) this.onError(err, record.id);
        const status = controller.signal.aborted ? "Cancelled" : "Failure";
        const extra = err instanceof BerthError && err.details && typeof err.details === "object" ? err.details as Record<string, unknown> : {};
        if (trailing) clearTimeout(trailing);
        await writes;
        try {
          await this.finish(record.id, status, { ...metadata, ...extra }, err.message);
        } catch (failed) {
          this.onError(toError(failed), record.id); // the store failed: the row stays Running, resumed on the next start
        }
      } finally {
        if (trailing) clearTimeout(trailing);
        this.running.delete(record.id);
        await this.claims?.release(record.id).catch((err: unknown) => this.onError(toError(err), record.id));
      }
    })();
    this.running.set(record.id, { controller, done });
  }

  private async finish(id: string, status: OperationStatus, metadata: Record<string, unknown>, err: string): Promise<void> {
    await this.store.updateOperation(id, { status, metadata, err, mayCancel: false }, this.now());
    this.emit((await this.store.getOperation(id))!);
    for (const wake of [...(this.waiters.get(id) ?? [])]) wake();
    this.waiters.delete(id);
  }

  private emit(op: Operation): void {
    this.bus.emit("operation", this.view(op) as unknown as Record<string, unknown>);
  }
}

/** Claims on operations, shared by the replicas of one database (ReplicaChannel's). */
export interface OperationClaims {
  /** true: this process runs it now; false: a live replica does. */
  claim(id: string): Promise<boolean>;
  release(id: string): Promise<void>;
}

/** The API shape: drops the stored kind and input. */
export function toApiOperation(op: Operation | OperationRecord): Operation {
  const { kind: _kind, input: _input, ...rest } = op as OperationRecord;
  return rest;
}
