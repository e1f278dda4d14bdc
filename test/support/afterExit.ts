/**
 * Clean-up that outlives this process: a detached `sh` waits for this process to be gone, however
 * it went, then runs a command. For what nothing else reaps after a `kill -9` of the test or
 * bench process: a PostgreSQL server (pg_ctl puts it in its own session) and the temporary
 * directories. tsx's parent process SIGKILLs its child when the child does not acknowledge a
 * Ctrl-C within about 60 ms, which a busy machine easily misses, so no exit hook runs then.
 */
import { spawn } from "node:child_process";

/** A word for sh -c: single-quoted. */
export const shellQuote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

/** Runs `argvs` (each a command and its arguments) one after another once this process has exited; the returned function cancels that. */
export function afterExit(...argvs: string[][]): () => void {
  const commands = argvs.map((argv) => argv.map(shellQuote).join(" ")).join("; ");
  const child = spawn("sh", ["-c", `while kill -0 ${process.pid} 2>/dev/null; do sleep 0.5; done; ${commands}`], { detached: true, stdio: "ignore" });
  child.unref();
  return () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  };
}
