/**
 * The sandbox outside vitest: from source under `node --import tsx` (workerEntry.mjs registers tsx
 * in the worker itself), and compiled (dist/, built by `npm test`'s pretest) under plain node.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { request } from "./fixtures.ts";
import { ALL, scriptlet, smallCluster } from "./support.ts";

function expectBothOutcomes(out: { ok: unknown; stuck: { rejected: string } }): void {
  expect(out.ok).toMatchObject({ called: true, target: "n3", logs: [{ level: "info", message: "from c1" }] });
  expect(out.stuck.rejected).toMatch(/time limit of 1000 ms/);
}

it("works under plain node --import tsx", { timeout: 60_000 }, async () => {
  const main = fileURLToPath(new URL("./standaloneMain.ts", import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", main], { timeout: 50_000 });
  expectBothOutcomes(JSON.parse(stdout));
});

it("works compiled, under plain node with no loader", { timeout: 60_000 }, async () => {
  const main = fileURLToPath(new URL("./compiledMain.mjs", import.meta.url));
  const input = {
    cluster: smallCluster(),
    candidates: ALL,
    ok: { source: scriptlet(`log_info("from ", request.name); set_target("n3");`), request: request("c1") },
    stuck: { source: scriptlet("for (;;) {}"), request: request("c2") },
  };
  const env = { ...process.env, NODE_OPTIONS: "" }; // nothing inherited from vitest's own process may load a loader
  const { stdout } = await promisify(execFile)(process.execPath, [main, JSON.stringify(input)], { timeout: 50_000, env });
  const out = JSON.parse(stdout);
  expect(out.execArgv).toEqual([]);
  expectBothOutcomes(out);
});
