/**
 * The executor conformance suite: what every InstanceExecutor must do, run against each
 * implementation (the store-backed one now; agent-backed ones later).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Instance } from "../../src/domain/types.ts";
import type { InstanceExecutor } from "../../src/domain/executor.ts";
import { chooseAction } from "../../src/members/evacuationRules.ts";

export interface ExecutorFixture {
  executor: InstanceExecutor;
  /** Creates a stopped instance on the member and returns it. */
  create(name: string, member: string): Promise<Instance>;
  /** Reads the instance as Berth records it. */
  read(name: string): Promise<Instance>;
  close(): Promise<void>;
}

export function executorConformance(label: string, setup: () => Promise<ExecutorFixture>): void {
  describe(`executor conformance: ${label}`, () => {
    let f: ExecutorFixture;
    beforeEach(async () => { f = await setup(); });
    afterEach(async () => { await f.close(); });

    it("start makes an instance Running where it is", async () => {
      const i = await f.create("a", "n1");
      await f.executor.start(i);
      expect(await f.read("a")).toMatchObject({ status: "Running", location: "n1" });
    });

    it("stop makes it Stopped, cleanly or forced, and stopping a stopped instance is harmless", async () => {
      const i = await f.create("a", "n1");
      await f.executor.start(i);
      await f.executor.stop(await f.read("a"), { force: false, timeoutS: 30 });
      expect((await f.read("a")).status).toBe("Stopped");
      await f.executor.stop(await f.read("a"), { force: true, timeoutS: 0 });
      expect((await f.read("a")).status).toBe("Stopped");
      await f.executor.start(await f.read("a"));
      await f.executor.stop(await f.read("a"), { force: true, timeoutS: 0 });
      expect((await f.read("a")).status).toBe("Stopped");
    });

    it("move puts a stopped instance on the target and leaves it stopped", async () => {
      const i = await f.create("a", "n1");
      await f.executor.move(i, "n2", { live: false });
      expect(await f.read("a")).toMatchObject({ location: "n2", status: "Stopped" });
    });

    it("a live move keeps a running instance running where supported, and is refused (nothing changed) where not", async () => {
      const i = await f.create("a", "n1");
      await f.executor.start(i);
      const live = f.executor.move(await f.read("a"), "n2", { live: true });
      if (f.executor.canLiveMigrate) {
        await live;
        expect(await f.read("a")).toMatchObject({ location: "n2", status: "Running" });
        return;
      }
      await expect(live).rejects.toThrow(/live-migrat/);
      expect(await f.read("a")).toMatchObject({ location: "n1", status: "Running" });
      // So evacuation falls back to a cold migrate for this executor.
      expect(chooseAction(await f.read("a"), "live-migrate", () => undefined, false).action).toBe("migrate");
    });

    it("actions on different instances do not interfere", async () => {
      const a = await f.create("a", "n1");
      const b = await f.create("b", "n1");
      await Promise.all([f.executor.start(a), f.executor.move(b, "n2", { live: false })]);
      expect(await f.read("a")).toMatchObject({ location: "n1", status: "Running" });
      expect(await f.read("b")).toMatchObject({ location: "n2", status: "Stopped" });
    });
  });
}
