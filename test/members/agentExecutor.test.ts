/**
 * The executor conformance suite against the agent executor: members n1 and n2 have a stand-in
 * agent that carries out its member's desired state (the records) and reports it, as the none
 * driver does. A step completes only once that report is in.
 */
import { AgentExecutor } from "../../src/members/agentExecutor.ts";
import type { ObservedInstance } from "../../src/domain/agentProtocol.ts";
import { StoreExecutor } from "../../src/members/executor.ts";
import { makeHarness } from "../support/harness.ts";
import { executorConformance } from "./executor.case.ts";

async function fixture(reportDelayMs: number) {
  const h = await makeHarness();
  await h.addMember("n1");
  await h.addMember("n2");
  const { records, agents, desired } = h.berth.services;
  let closed = false;
  // Each member's agent: after every change of its desired state, report it as observed.
  const follow = async (member: string) => {
    let since: number | undefined;
    while (!closed) {
      const state = await desired.read(member, since, 1);
      since = state.revision;
      if (reportDelayMs > 0) await new Promise((r) => setTimeout(r, reportDelayMs));
      const observed: ObservedInstance[] = state.instances.map((i) => ({ project: i.project, name: i.name, status: i.desired }));
      agents.report(member, { driver: "none", version: "test" }, observed);
    }
  };
  agents.report("n1", { driver: "none", version: "test" }, []);
  agents.report("n2", { driver: "none", version: "test" }, []);
  const loops = [follow("n1"), follow("n2")];
  return {
    executor: new AgentExecutor(new StoreExecutor(records), agents, () => 30_000, desired, () => undefined),
    create: (name: string, member: string) => h.createInstance({ name }, `target=${member}`),
    read: async (name: string) => records.get("default", name),
    close: async () => {
      closed = true;
      await Promise.all(loops);
      await h.close();
    },
  };
}

executorConformance("agent-backed", () => fixture(0));
executorConformance("agent-backed with agents that report late", () => fixture(20));
