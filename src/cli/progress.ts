/**
 * Live progress of an async operation: its `operation` events from /1.0/events (the stream is
 * opened before the request that starts the operation, so no step is missed), GET polling if the
 * stream cannot be used, and always /wait for the final state. Shown as a progress bar on a
 * terminal, otherwise as one plain line per step; both on stderr, so stdout keeps the result.
 */
import { createRequire } from "node:module";
import { setTimeout as sleep } from "node:timers/promises";
import type { BerthEvent, Operation } from "../domain/types.ts";
import { isFinal, type BerthClient } from "./client.ts";
import { seg } from "./context.ts";

const POLL_MS = 200;
/** How long the event stream may take to say `ready` before progress falls back to polling. */
const READY_TIMEOUT_MS = 5_000;
/** After /wait says the operation ended, how long to wait for its final event (already sent). */
const FINAL_EVENT_GRACE_MS = 2_000;

/** A promise that resolves with `fallback` after ms, unless the given one settles first (the timer is cleared). */
async function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<T>((resolve) => { timer = setTimeout(() => resolve(fallback), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

function signal<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

/**
 * Starts an operation with `start` (which returns its id) and calls onMetadata with the
 * operation's metadata at every step until it ends; returns the operation as it ended.
 */
export async function followOperation(
  client: BerthClient,
  start: () => Promise<string>,
  onMetadata: (metadata: Record<string, unknown>) => void,
  onStarted: (id: string) => void = () => {},
): Promise<Operation> {
  const streamControl = new AbortController();
  const pollControl = new AbortController();
  let id: string | undefined;
  let finished = false;
  const early: Operation[] = [];
  const ready = signal<boolean>();
  const finalEvent = signal();
  let polling: Promise<void> | undefined;

  const poll = async (opId: string) => {
    while (!finished) {
      try {
        onMetadata((await client.get<Operation>(`/1.0/operations/${seg(opId)}`)).metadata ?? {});
        await sleep(POLL_MS, undefined, { signal: pollControl.signal });
      } catch {
        if (pollControl.signal.aborted) return;
        await sleep(POLL_MS, undefined, { signal: pollControl.signal }).catch(() => undefined);
      }
    }
  };
  const deliver = (op: Operation) => {
    if (op.id !== id) return;
    onMetadata(op.metadata ?? {});
    if (isFinal(op.status)) finalEvent.resolve();
  };

  let streamBroken = false;
  const stream = client.streamEvents("operation", (name, data) => {
    if (name === "ready") return ready.resolve(true);
    if (name !== "operation") return;
    let op: Operation;
    try {
      op = (JSON.parse(data) as BerthEvent).metadata as unknown as Operation;
    } catch {
      return;
    }
    if (id === undefined) early.push(op);
    else deliver(op);
  }, streamControl.signal).catch(() => {
    // No stream, or it broke: progress comes from polling instead.
    streamBroken = true;
    ready.resolve(false);
    finalEvent.resolve();
    if (id !== undefined && !finished) polling ??= poll(id);
  });

  try {
    const streaming = await within(ready.promise, READY_TIMEOUT_MS, false);
    if (!streaming) {
      streamBroken = true;
      streamControl.abort();
    }
    id = await start();
    onStarted(id);
    for (const op of early.splice(0)) deliver(op);
    if (streamBroken) polling ??= poll(id);
    const op = await client.waitOperation(id);
    // The final event is sent before /wait answers; let the stream deliver it and the steps before it.
    if (!streamBroken) await within(finalEvent.promise, FINAL_EVENT_GRACE_MS, undefined);
    onMetadata(op.metadata ?? {});
    return op;
  } finally {
    finished = true;
    streamControl.abort();
    pollControl.abort();
    await stream;
    await polling;
  }
}

export interface ProgressStep {
  message: string;
  done?: number;
  total?: number;
}

export interface ProgressView {
  update(step: ProgressStep): void;
  stop(): void;
}

const count = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/** The step in an evacuate or restore operation's metadata (`evacuation_progress`, `done`, `total`). */
export function evacuationStep(metadata: Record<string, unknown>): ProgressStep | null {
  const message = metadata.evacuation_progress;
  if (typeof message !== "string" || message === "") return null;
  return { message, done: count(metadata.done), total: count(metadata.total) };
}

/** "[1/3] Migrating ..." (the counts when known). */
export function stepLine(step: ProgressStep): string {
  return step.total === undefined ? step.message : `[${step.done ?? 0}/${step.total}] ${step.message}`;
}

// cli-progress is loaded only when a bar is drawn.
const requireModule = createRequire(import.meta.url);

/** A bar (done/total and the current message) on a terminal, otherwise one line per new step. */
export function progressView(stream: NodeJS.WriteStream = process.stderr): ProgressView {
  let last = "";
  if (!stream.isTTY) {
    return {
      update(step) {
        const line = stepLine(step);
        if (line === last) return;
        last = line;
        stream.write(`${line}\n`);
      },
      stop() {},
    };
  }
  const { SingleBar, Presets } = requireModule("cli-progress") as typeof import("cli-progress");
  let bar: InstanceType<typeof SingleBar> | undefined;
  let total = 0;
  return {
    update(step) {
      const line = stepLine(step);
      if (line === last) return;
      last = line;
      if (!bar) {
        bar = new SingleBar({ format: "{bar} {value}/{total} {message}", stream, hideCursor: false, clearOnComplete: false, barsize: 30 }, Presets.shades_classic);
        total = step.total ?? 0;
        bar.start(total, step.done ?? 0, { message: step.message });
        return;
      }
      if (step.total !== undefined && step.total !== total) bar.setTotal((total = step.total));
      bar.update(step.done ?? 0, { message: step.message });
    },
    stop() {
      bar?.stop();
    },
  };
}
