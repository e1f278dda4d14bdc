/**
 * The call channel between the main thread and one worker: a SharedArrayBuffer with a few Int32
 * control words and two byte regions (request, reply) of UTF-8 JSON.
 *
 * - The worker, when it has nothing to do, blocks in `Atomics.wait` on WAKE. The main thread bumps
 *   WAKE and notifies after every message it posts to the worker's port (deltas, installs...) and
 *   after writing a call into the request region, so the worker wakes straight from the futex,
 *   without an event-loop turn, and reads port messages synchronously (receiveMessageOnPort).
 * - A call carries how many port messages were posted before it (POSTED): the worker reads exactly
 *   those first, so a call sees every delta sent before it and none sent after it.
 * - A place call may carry its candidates as uint32 ids (see ranking.ts) right after the JSON,
 *   4-byte aligned: a thousand names cost far more to stringify and parse than to copy as ids.
 * - The worker writes the reply, stores the call's sequence number in REPLY and notifies; the main
 *   thread waits for that with `Atomics.waitAsync` (it never blocks). A reply too big for its
 *   region goes by postMessage instead (REPLY_LEN = -1); a call too big for the request region is
 *   simply posted.
 */

/** Int32 slots of the control words. */
export const WAKE = 0; // bumped by the main thread whenever the worker has something to read
export const CALL = 1; // sequence number of the call in the request region (0: none yet)
export const POSTED = 2; // port messages posted before that call
export const CALL_LEN = 3; // bytes of the call
export const REPLY = 4; // sequence number of the last call answered
export const REPLY_LEN = 5; // bytes of the reply, or -1: it was posted instead
export const SPIN = 6; // µs the worker may poll for the next call after answering this one, before sleeping
export const CALL_IDS = 7; // uint32 candidate ids written after the call's JSON, or -1: none

const CONTROL_BYTES = 64;
const REGION_BYTES = 256 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

type WaitAsync = (a: Int32Array, index: number, value: number, timeoutMs: number) => { async: false; value: string } | { async: true; value: Promise<string> };
/** Node 20 has Atomics.waitAsync; this project's TS lib (ES2023) does not declare it. */
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** One call's wait for its reply (Channel.onReply). */
interface ReplyWatch {
  previous: number; // the REPLY word before this call
  until: number; // poll until then
  deadline: number; // give up then (the watchdog has acted long before)
  then: () => void;
  keepPolling: (() => boolean) | null; // checked on every poll: false stops polling early
  done: boolean;
}
const pollReply = (channel: Channel, w: ReplyWatch): void => channel.pollReply(w);

/** Where the ids start in the request region: after the JSON, 4-byte aligned. */
const idsOffset = (jsonBytes: number): number => (jsonBytes + 3) & ~3;

export class Channel {
  readonly control: Int32Array;
  private readonly request: Uint8Array;
  private readonly reply: Uint8Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(CONTROL_BYTES + 2 * REGION_BYTES)) {
    this.control = new Int32Array(buffer, 0, CONTROL_BYTES / 4);
    this.request = new Uint8Array(buffer, CONTROL_BYTES, REGION_BYTES);
    this.reply = new Uint8Array(buffer, CONTROL_BYTES + REGION_BYTES, REGION_BYTES);
  }

  // ---- main thread ----

  /** Wakes the worker (it re-checks its port and the request region). */
  ring(): void {
    Atomics.add(this.control, WAKE, 1);
    Atomics.notify(this.control, WAKE);
  }

  /**
   * Writes call `seq` (JSON, plus candidate `ids` if given; `seq` is never 0) after `posted` port
   * messages; false when it does not fit.
   */
  sendCall(seq: number, posted: number, json: string, spinUs = 0, ids: Uint32Array | null = null): boolean {
    const { read, written } = encoder.encodeInto(json, this.request);
    if (read !== json.length) return false;
    if (ids !== null) {
      const at = idsOffset(written);
      if (at + 4 * ids.length > REGION_BYTES) return false;
      new Uint32Array(this.buffer, CONTROL_BYTES + at, ids.length).set(ids);
    }
    Atomics.store(this.control, CALL_IDS, ids === null ? -1 : ids.length);
    Atomics.store(this.control, SPIN, spinUs);
    Atomics.store(this.control, CALL_LEN, written);
    Atomics.store(this.control, POSTED, posted);
    Atomics.store(this.control, CALL, seq);
    this.ring();
    return true;
  }

  /**
   * Calls `then` once the worker has answered the call after `previous`, never blocking: with
   * `pollMs`, by checking the reply word on every event-loop turn for that long, while
   * `keepPolling` allows (a thread woken
   * from sleep costs tens of µs on a VM), and in any case by Atomics.waitAsync, until `timeoutMs`
   * (the watchdog has acted long before). A wake-up can be spurious (the previous reply's notify
   * may land after that reply was taken), so the reply word is checked and the wait re-armed.
   */
  onReply(previous: number, pollMs: number, timeoutMs: number, then: () => void, keepPolling: (() => boolean) | null = null): void {
    // (Methods and a state object rather than closures per call: tsx names each closure it creates.)
    const now = performance.now();
    const w: ReplyWatch = { previous, until: now + pollMs, deadline: now + timeoutMs, then, keepPolling, done: false };
    // Arm the wait only once polling gave up: a notify that finds an async waiter costs the worker
    // (and then this thread) far more than one that finds none.
    if (pollMs > 0) setImmediate(pollReply, this, w);
    else this.waitReply(w);
  }

  /** One polling step (see onReply). */
  pollReply(w: ReplyWatch): void {
    if (w.done) return;
    if (Atomics.load(this.control, REPLY) !== w.previous) this.finishReply(w);
    else if (performance.now() < w.until && (w.keepPolling === null || w.keepPolling())) setImmediate(pollReply, this, w);
    else this.waitReply(w);
  }

  private waitReply(w: ReplyWatch): void {
    if (w.done) return;
    const left = w.deadline - performance.now();
    if (Atomics.load(this.control, REPLY) !== w.previous || left <= 0) return this.finishReply(w);
    const waited = waitAsync(this.control, REPLY, w.previous, left);
    if (waited.async) void waited.value.then(() => this.waitReply(w));
    else queueMicrotask(() => this.waitReply(w));
  }

  private finishReply(w: ReplyWatch): void {
    if (w.done) return;
    w.done = true;
    w.then();
  }

  /** The reply to call `seq` as JSON, or null when it was posted instead (or is not there yet). */
  readReply(seq: number): string | null {
    if (Atomics.load(this.control, REPLY) !== seq) return null;
    const length = Atomics.load(this.control, REPLY_LEN);
    return length < 0 ? null : decoder.decode(this.reply.subarray(0, length));
  }

  // ---- worker ----

  /** The call written since call `answered`, if any: its sequence number and POSTED. */
  pendingCall(answered: number): { seq: number; posted: number } | null {
    const seq = Atomics.load(this.control, CALL);
    return seq === answered ? null : { seq, posted: Atomics.load(this.control, POSTED) };
  }

  readCall(): string {
    return decoder.decode(this.request.subarray(0, Atomics.load(this.control, CALL_LEN)));
  }

  /** A copy of the candidate ids written with the current call, or null when it has none. */
  readCallIds(): Uint32Array | null {
    const count = Atomics.load(this.control, CALL_IDS);
    if (count < 0) return null;
    const at = idsOffset(Atomics.load(this.control, CALL_LEN));
    return new Uint32Array(new Uint32Array(this.buffer, CONTROL_BYTES + at, count)); // the region is reused
  }

  /**
   * Publishes the reply to call `seq` and wakes the main thread. Returns false when it did not fit:
   * the caller posts it instead (the main thread then ignores this wake-up and takes the message).
   */
  sendReply(seq: number, json: string): boolean {
    const { read, written } = encoder.encodeInto(json, this.reply);
    const fits = read === json.length;
    Atomics.store(this.control, REPLY_LEN, fits ? written : -1);
    Atomics.store(this.control, REPLY, seq);
    Atomics.notify(this.control, REPLY);
    return fits;
  }

  /** Blocks until the main thread rings after `seen`; false when `timeoutMs` passed first. */
  wait(seen: number, timeoutMs: number): boolean {
    return Atomics.wait(this.control, WAKE, seen, timeoutMs) !== "timed-out";
  }

  spinUs(): number {
    return Atomics.load(this.control, SPIN);
  }

  wakes(): number {
    return Atomics.load(this.control, WAKE);
  }
}
