import { StoreExecutor } from "../../src/members/executor.ts";
import { makeHarness } from "../support/harness.ts";
import { executorConformance } from "./executor.case.ts";

async function fixture(delayMs: number) {
  const h = await makeHarness();
  await h.addMember("n1");
  await h.addMember("n2");
  const instances = h.berth.services.records;
  return {
    executor: new StoreExecutor(instances, delayMs),
    create: (name: string, member: string) => h.createInstance({ name }, `target=${member}`),
    read: async (name: string) => instances.get("default", name),
    close: () => h.close(),
  };
}

executorConformance("store-backed", () => fixture(0));
executorConformance("store-backed with simulated delay", () => fixture(5));
