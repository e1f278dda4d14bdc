/** The scriptlet sandbox (DESIGN §4): import from here. */
export { ScriptletSandbox, defaultPoolSize } from "./sandbox.ts";
export type { ScriptletSandboxOptions } from "./sandbox.ts";
export { ScriptletError } from "./types.ts";
export type {
  PendingPlacement, ReplicaDelta, ReplicaSnapshot, SandboxLimits, ScriptletInstance, ScriptletInstanceResources,
  ScriptletLog, ScriptletLogEvent, ScriptletLogLevel, ScriptletOutcome, ScriptletRequest,
} from "./types.ts";
export type { WorkerStats } from "./protocol.ts";
