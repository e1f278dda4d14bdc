/**
 * Messages between the main thread and a sandbox worker. The main thread posts to a private port the
 * worker reads synchronously; calls (place, testCall) go through the shared channel when they fit
 * (channel.ts), in order with the posted messages. The worker answers on its parentPort, or through
 * the channel for a call that came that way.
 */
import type { MessagePort } from "node:worker_threads";
import type { ReplicaDelta, ReplicaSnapshot, SandboxLimits, ScriptletOutcome, ScriptletRequest } from "./types.ts";

/** A scriptlet that failed validation: the message and where. */
export interface InvalidScriptlet {
  message: string;
  line: number | null;
  column: number | null;
}

export interface WorkerStats {
  quickjs_bytes: number; // memory used by the installed scriptlet's QuickJS runtime
  heap_used: number; // the worker's V8 heap
  sessions_created: number;
  calls: number;
  /** Sessions whose runtime reported leaked handles when freed: always 0 unless the sandbox has a bug. */
  dispose_failures: number;
}

/** What a worker starts with (workerData). */
export interface WorkerData {
  buffer: SharedArrayBuffer;
  port: MessagePort;
}

export type ToWorker =
  | { t: "init"; replica: ReplicaSnapshot; source: string; limits: SandboxLimits }
  | { t: "deltas"; deltas: ReplicaDelta[] }
  | { t: "reset"; replica: ReplicaSnapshot }
  | { t: "limits"; id: number; limits: SandboxLimits } // a request: a new memoryMb rebuilds the session
  | { t: "install"; id: number; source: string }
  | { t: "validate"; id: number; source: string }
  // names null: ids beside the call in the channel (ranking.ts), or else the previous place call's list;
  // fresh: names the main thread numbered for this worker since the last call, in id order
  | { t: "place"; id: number; request: ScriptletRequest; names: string[] | null; fresh?: string[] }
  // a place call that came through the channel as text (placeCall.ts): candidates as ids or the same
  | { t: "placeText"; id: number; request: string; fresh: string[] | null }
  | { t: "testLoad"; id: number; token: number; source: string } // then testCall on the same worker: two watchdog budgets
  | { t: "testCall"; id: number; token: number; request: ScriptletRequest; names: string[] }
  | { t: "stats"; id: number; gc: boolean };

/** A request message before the worker handle numbers it. */
export type WorkerRequest = Extract<ToWorker, { id: number }> extends infer T ? (T extends unknown ? Omit<T, "id"> : never) : never;

/** The answer to a request (install/validate: `invalid`; place/test: `outcome` or `invalid`; stats). */
export interface WorkerReply {
  t: "reply";
  id: number;
  /** True when the worker is rebuilding its session after this call and will post "idle" when done. */
  rebuilding: boolean;
  outcome?: ScriptletOutcome;
  invalid?: InvalidScriptlet | null;
  stats?: WorkerStats;
}

export type FromWorker =
  | { t: "ready" }
  | { t: "idle" } // a rebuild announced by `rebuilding: true` finished
  | { t: "fatal"; message: string }
  | WorkerReply;
