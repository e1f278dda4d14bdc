/**
 * The agent taking a desired state in (agent.ts apply): an instance newly listed is recorded, then
 * started — never taken for one that is "no longer listed" while the records of a large answer are
 * still being written (a look at the instances in between used to forget it: stop + remove).
 */
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Agent } from "../../src/agent/agent.ts";
import { AgentClient, nodeTransport } from "../../src/agent/client.ts";
import type { Driver, Observation } from "../../src/agent/drivers/driver.ts";
import { InstanceRecords } from "../../src/agent/files.ts";
import { instanceKey, type DesiredInstance } from "../../src/agent/protocol.ts";
import { desiredInstance, FakeService } from "./fakeService.ts";
import { cleanUpData, tempDir, waitUntil } from "./support.ts";

/** Bookkeeping in memory; it records every call, and looks at every instance every 2 ms. */
class CountingDriver implements Driver {
  readonly name = "none";
  readonly observeIntervalMs = 2;
  readonly running = new Set<string>();
  readonly calls: string[] = [];
  async start(i: DesiredInstance): Promise<void> {
    this.calls.push(`start ${i.name}`);
    this.running.add(instanceKey(i));
  }
  async stop(i: DesiredInstance): Promise<void> {
    this.calls.push(`stop ${i.name}`);
    this.running.delete(instanceKey(i));
  }
  async remove(i: DesiredInstance): Promise<void> {
    this.calls.push(`remove ${i.name}`);
  }
  async status(i: DesiredInstance): Promise<Observation> {
    return { status: this.running.has(instanceKey(i)) ? "Running" : "Stopped" };
  }
  async log(): Promise<string> {
    return "";
  }
}

/** Records written slowly, as on a busy disk: a large answer takes a while to take in. */
class SlowRecords extends InstanceRecords {
  override async save(instance: DesiredInstance): Promise<void> {
    await new Promise((r) => setTimeout(r, 5));
    await super.save(instance);
  }
}

let data: string;
let service: FakeService;
let agent: Agent | null = null;

beforeEach(async () => {
  data = tempDir("apply");
  service = await new FakeService().start();
});
afterEach(async () => {
  await agent?.stop();
  agent = null;
  await service.close();
  cleanUpData(data);
});

describe("taking a desired state in", () => {
  it("starts every newly listed instance and forgets none of them while their records are written", async () => {
    const driver = new CountingDriver();
    const client = new AgentClient({ url: service.url, member: service.member, credential: service.credential, transport: nodeTransport() });
    agent = new Agent({
      client, driver, records: new SlowRecords(data), logger: pino({ level: "silent" }), version: "test", pollWaitS: 1,
      probe: async () => ({ resources: {} as never }),
    });
    const first = desiredInstance("first", "Running");
    service.setDesired([first]);
    await agent.start();
    await waitUntil(() => driver.running.has("default/first"), "the first instance runs");

    const more = Array.from({ length: 20 }, (_, i) => desiredInstance(`new${i}`, "Running"));
    service.setDesired([first, ...more]);
    await waitUntil(() => more.every((i) => driver.running.has(instanceKey(i))), "every new instance runs");
    await agent.settled();
    expect(driver.calls.filter((c) => !c.startsWith("start"))).toEqual([]);
    expect(driver.calls.filter((c) => c === "start new3")).toEqual(["start new3"]);
  });
});
