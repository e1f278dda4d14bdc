/** Messages between the main thread and a sandbox worker. postMessage keeps their order. */
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
}

export type ToWorker =
  | { t: "init"; replica: ReplicaSnapshot; source: string; limits: SandboxLimits }
  | { t: "deltas"; deltas: ReplicaDelta[] }
  | { t: "reset"; replica: ReplicaSnapshot }
  | { t: "limits"; limits: SandboxLimits }
  | { t: "install"; id: number; source: string }
  | { t: "validate"; id: number; source: string }
  | { t: "place"; id: number; request: ScriptletRequest; names: string[] }
  | { t: "test"; id: number; source: string; request: ScriptletRequest; names: string[] }
  | { t: "stats"; id: number };

export type WorkerReply =
  | { t: "reply"; id: number; outcome: ScriptletOutcome; rebuilding: boolean }
  | { t: "reply"; id: number; invalid: InvalidScriptlet | null; rebuilding: boolean }
  | { t: "reply"; id: number; stats: WorkerStats; rebuilding: boolean };

export type FromWorker =
  | { t: "ready" }
  | { t: "idle" } // a rebuild announced by `rebuilding: true` finished
  | { t: "fatal"; message: string }
  | WorkerReply;
