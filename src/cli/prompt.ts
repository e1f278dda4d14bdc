/** Asking before a disruptive change: a yes/no question on a terminal; no terminal means no, unless --force. */
import { createInterface } from "node:readline";
import { CliError } from "./client.ts";

/**
 * One line typed on the terminal ("" on end of input or when `signal` aborts, null on Ctrl-C). The question goes to stderr
 * so stdout keeps the result.
 */
export function ask(
  question: string, input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr, signal?: AbortSignal,
): Promise<string | null> {
  return new Promise((resolve) => {
    const rl = createInterface({ input, output });
    // The question no longer matters (what it was about ended): closed as if nobody answered.
    signal?.addEventListener("abort", () => rl.close(), { once: true });
    let answered = false;
    let interrupted = false;
    rl.on("SIGINT", () => {
      interrupted = true;
      rl.close();
    });
    rl.once("close", () => {
      if (answered) return;
      output.write("\n");
      resolve(interrupted ? null : "");
    });
    rl.question(question, (answer) => {
      answered = true;
      rl.close();
      resolve(answer);
    });
  });
}

/**
 * Proceeds when --force was given or the user answers yes/y to
 * `Are you sure you want to <action>? (yes/no) [default=no]: `; otherwise a CliError. Without a
 * terminal on stdin nobody can answer, so that is a refusal too.
 */
export async function confirm(action: string, force: boolean | undefined): Promise<void> {
  if (force) return;
  if (!process.stdin.isTTY) {
    throw new CliError(`Refusing to ${action} without confirmation: stdin is not a terminal (add --force to skip the question)`);
  }
  const answer = ((await ask(`Are you sure you want to ${action}? (yes/no) [default=no]: `)) ?? "").trim().toLowerCase();
  if (answer !== "yes" && answer !== "y") throw new CliError(`Aborted: did not ${action}`);
}
