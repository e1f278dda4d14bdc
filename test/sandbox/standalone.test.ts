/** The sandbox outside vitest: `node --import tsx` loads the worker (workerEntry.mjs registers tsx itself). */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";

it("works under plain node --import tsx", { timeout: 60_000 }, async () => {
  const main = fileURLToPath(new URL("./standaloneMain.ts", import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", main], { timeout: 50_000 });
  const { ok, stuck } = JSON.parse(stdout);
  expect(ok).toMatchObject({ called: true, target: "n3", logs: [{ level: "info", message: "from c1" }] });
  expect(stuck.rejected).toMatch(/time limit of 200 ms/);
});
