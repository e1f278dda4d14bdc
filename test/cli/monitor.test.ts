import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCliHarness, type CliHarness, type RunningCli } from "./cliHarness.ts";

let h: CliHarness;
beforeAll(async () => { h = await startCliHarness(); });
afterAll(async () => { await h.close(); });

async function startMonitor(args: string[]): Promise<RunningCli> {
  const monitor = h.spawn(["monitor", ...args]);
  await monitor.waitFor("stderr", (t) => t.includes("Listening for"));
  return monitor;
}

describe("berth monitor", () => {
  it("prints one line per event as it arrives, filtered by type, as text or JSON lines, until stopped", async () => {
    const all = await startMonitor([]);
    const json = await startMonitor(["--format", "json"]);
    const opsOnly = await startMonitor(["--type", "operation"]);
    try {
      await h.api("POST", "/1.0/projects", { name: "watched" });
      await all.waitFor("stdout", (t) => t.includes("project-created"));
      // "<timestamp> <type> <action> <source>"
      expect(all.stdout).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z lifecycle project-created \/1\.0\/projects\/watched\n$/);

      await json.waitFor("stdout", (t) => t.includes("\n"));
      const event = JSON.parse(json.stdout.split("\n")[0]);
      expect(event).toMatchObject({ type: "lifecycle", metadata: { action: "project-created", source: "/1.0/projects/watched" } });

      // Operation events reach the filtered monitor; the lifecycle event above did not.
      const op = h.server.berth.services.operations;
      op.register("test-noop", async () => ({}));
      const id = (await op.start({ kind: "test-noop", description: "Doing nothing" })).id;
      await opsOnly.waitFor("stdout", (t) => t.includes("Success"));
      expect(opsOnly.stdout).not.toContain("lifecycle");
      expect(opsOnly.stdout).toMatch(new RegExp(`operation Doing nothing Success \\(${id}\\)`));
    } finally {
      for (const m of [all, json, opsOnly]) {
        const exit = await m.stop();
        expect(exit.code ?? exit.signal).toBe(0); // SIGTERM ends the stream cleanly
      }
    }
  });
});
