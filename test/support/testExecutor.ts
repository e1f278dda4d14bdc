/**
 * An executor a test controls: it wraps the service's real (store-backed) executor and can hold
 * an action until the test releases it (a gate, for deterministic races), fail chosen actions, or
 * slow every action down. Installed through createBerth's `executor` option.
 */
import type { InstanceExecutor, StopOptions } from "../../src/domain/executor.ts";
import type { Instance } from "../../src/domain/types.ts";

export type ActionKind = "start" | "stop" | "move";

export interface Action {
  kind: ActionKind;
  project: string;
  name: string;
  /** The instance's member when the action was asked. */
  location: string;
  /** The target of a move. */
  target?: string;
}

export interface HeldAction extends Action {
  /** Lets the action go on to the real executor. */
  release(): void;
  /** Makes the action fail with this message instead. */
  fail(message: string): void;
}

type Matcher = (action: Action) => boolean;

export class TestExecutor implements InstanceExecutor {
  private inner: InstanceExecutor | null = null;
  private holdWhen: Matcher | null = null;
  private failWhen: { match: Matcher; message: (a: Action) => string } | null = null;
  private delayMs = 0;
  private delayOf: (() => number) | null = null;
  private readonly held: HeldAction[] = [];
  private readonly heldWaiters: { match: Matcher; resolve: (a: HeldAction) => void }[] = [];
  /** Every action as it was asked, in order. */
  readonly log: Action[] = [];

  get canLiveMigrate(): boolean {
    return this.inner?.canLiveMigrate ?? false;
  }

  /** For createBerth's `executor` option. */
  readonly install = (inner: InstanceExecutor): InstanceExecutor => {
    this.inner = inner;
    return this;
  };

  /** Holds every action that matches (all actions without an argument) until the test releases it. */
  hold(match: Matcher = () => true): void {
    this.holdWhen = match;
  }

  /** Stops holding new actions and releases every one held now. */
  releaseAll(): void {
    this.holdWhen = null;
    for (const a of this.held.splice(0)) a.release();
  }

  /** Fails every matching action with the message (until cleared with failing(null)). */
  failing(match: Matcher | null, message: (a: Action) => string = (a) => `test executor refused to ${a.kind} ${a.name}`): void {
    this.failWhen = match ? { match, message } : null;
  }

  /** Every action takes this long (0: at once). */
  slow(ms: number): void {
    this.delayMs = ms;
  }

  /** Every action takes as long as `delay()` says (null: back to slow()'s fixed delay). */
  jitter(delay: (() => number) | null): void {
    this.delayOf = delay;
  }

  /** The next held action that matches (already held, or the next to be). */
  next(match: Matcher = () => true): Promise<HeldAction> {
    const found = this.held.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.heldWaiters.push({ match, resolve }));
  }

  /** Actions held right now. */
  get holding(): readonly HeldAction[] {
    return this.held;
  }

  start(instance: Instance): Promise<void> {
    return this.act({ kind: "start", project: instance.project, name: instance.name, location: instance.location }, (e) => e.start(instance));
  }

  stop(instance: Instance, options: StopOptions): Promise<void> {
    return this.act({ kind: "stop", project: instance.project, name: instance.name, location: instance.location }, (e) => e.stop(instance, options));
  }

  move(instance: Instance, target: string, options: { live: boolean }): Promise<void> {
    return this.act({ kind: "move", project: instance.project, name: instance.name, location: instance.location, target }, (e) => e.move(instance, target, options));
  }

  private async act(action: Action, run: (inner: InstanceExecutor) => Promise<void>): Promise<void> {
    if (!this.inner) throw new Error("TestExecutor used before createBerth installed it");
    this.log.push(action);
    if (this.holdWhen?.(action)) {
      const verdict = await new Promise<string | null>((resolve) => {
        const held: HeldAction = {
          ...action,
          release: () => {
            this.drop(held);
            resolve(null);
          },
          fail: (message) => {
            this.drop(held);
            resolve(message);
          },
        };
        this.held.push(held);
        const waiter = this.heldWaiters.findIndex((w) => w.match(held));
        if (waiter >= 0) this.heldWaiters.splice(waiter, 1)[0].resolve(held);
      });
      if (verdict !== null) throw new Error(verdict);
    }
    if (this.failWhen?.match(action)) throw new Error(this.failWhen.message(action));
    const delay = this.delayOf ? this.delayOf() : this.delayMs;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    await run(this.inner);
  }

  private drop(held: HeldAction): void {
    const at = this.held.indexOf(held);
    if (at >= 0) this.held.splice(at, 1);
  }
}
