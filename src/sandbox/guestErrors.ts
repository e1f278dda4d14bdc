/** Turning what a scriptlet threw into a message a user can act on: which limit, or which error, and where. */
import type { SandboxLimits } from "./types.ts";

export const SCRIPTLET_FILENAME = "scriptlet.js";

/** What a thrown guest value looked like, classified. */
export interface GuestError {
  kind: "timeout" | "memory" | "stack" | "error";
  text: string; // "TypeError: x is not a function (line 3:9)"
  line: number | null;
  column: number | null;
}

const LOCATION = /scriptlet\.js:(\d+):(\d+)/;

/** The first scriptlet frame of a QuickJS stack ("    at f (scriptlet.js:3:9)"). */
export function locate(stack: string): { line: number | null; column: number | null } {
  const m = LOCATION.exec(stack);
  return m ? { line: Number(m[1]), column: Number(m[2]) } : { line: null, column: null };
}

/**
 * Classifies [name, message, stack] of a thrown value. QuickJS reports an interrupt as
 * InternalError "interrupted" (only our deadline interrupts), a failed allocation as "out of
 * memory" (or throws null when even that error could not be allocated: `exhausted` says the heap
 * ran out) and a deep stack as "stack overflow".
 */
export function classify(
  [name, message, stack]: [string, string, string],
  { timedOut, exhausted }: { timedOut: boolean; exhausted: boolean },
  limits: SandboxLimits,
): GuestError {
  const { line, column } = locate(stack);
  const at = line === null ? "" : ` (line ${line}:${column})`;
  const error = (kind: GuestError["kind"], text: string): GuestError => ({ kind, text: text + at, line, column });
  if (name === "InternalError" && message === "interrupted" && timedOut) {
    return error("timeout", `Scriptlet exceeded its time limit of ${limits.timeoutMs} ms`);
  }
  if (message === "out of memory" || exhausted) return error("memory", `Scriptlet exceeded its memory limit of ${limits.memoryMb} MiB`);
  if (message === "stack overflow") return error("stack", "Scriptlet exceeded the maximum call stack depth");
  return error("error", `${name ? `${name}: ` : ""}${message}`);
}
