/**
 * The service side of the agent protocol (docs/agents.md), driven over HTTP with agent tokens by
 * a stand-in agent written here: the desired-state long-poll, observed state in heartbeats, steps
 * that complete only when the agent reports them, crashes, time-outs, log requests, and what an
 * agent token may touch.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeHarness, type Harness } from "../support/harness.ts";

let h: Harness;
beforeEach(async () => { h = await makeHarness(); });
afterEach(async () => {
  for (const agent of running) agent.stop();
  running.length = 0;
  await h.close();
});

const agentToken = async (member: string): Promise<string> => {
  const r = await h.request("POST", "/1.0/tokens", { role: "agent", member });
  expect(r.status).toBe(201);
  return r.body.metadata.token;
};

type Observed = { project: string; name: string; status: "Running" | "Stopped" | "Error"; pid?: number; reason?: string };

interface StandIn {
  member: string;
  token: string;
  /** What it reports; by default it does whatever the desired state says. */
  observed: Map<string, Observed>;
  /** Desired answers seen, in order. */
  answers: any[];
  /** When false, it reads the desired state but does nothing (a stuck agent). */
  obey: boolean;
  report(): Promise<void>;
  stop(): void;
}
const running: StandIn[] = [];

/** An agent that long-polls its desired state and reports it as observed (the none driver, in short). */
async function standIn(member: string, onLog: (name: string) => string = () => ""): Promise<StandIn> {
  const token = await agentToken(member);
  let stopped = false;
  const agent: StandIn = {
    member, token, observed: new Map(), answers: [], obey: true,
    async report() {
      const r = await h.request("POST", `/1.0/cluster/members/${member}/heartbeat`, {
        agent: { driver: "none", version: "test" }, instances: [...agent.observed.values()],
      }, token);
      expect(r.status).toBe(200);
    },
    stop() { stopped = true; },
  };
  await agent.report();
  void (async () => {
    let since: number | undefined;
    while (!stopped) {
      const r = await h.request("GET", `/1.0/cluster/members/${member}/desired${since === undefined ? "" : `?since=${since}&wait=2`}`, undefined, token);
      if (stopped || r.status !== 200) break;
      const desired = r.body.metadata;
      agent.answers.push(desired);
      since = desired.revision;
      for (const req of desired.requests) {
        await h.request("POST", `/1.0/cluster/members/${member}/answers/${req.id}`, { log: onLog(req.name) }, token);
      }
      if (!agent.obey) continue;
      const next = new Map<string, Observed>();
      for (const i of desired.instances) next.set(`${i.project}/${i.name}`, { project: i.project, name: i.name, status: i.desired, pid: 100 });
      agent.observed = next;
      await agent.report();
    }
  })();
  running.push(agent);
  return agent;
}

const wait = async (op: string) => (await h.request("GET", `${op}/wait?timeout=30`)).body.metadata;

describe("desired state and observed state", () => {
  it("a create on a member with an agent completes when the agent reports the instance running", async () => {
    await h.addMember("n1");
    const agent = await standIn("n1");
    const r = await h.run("POST", "/1.0/instances?target=n1", { name: "w1", start: true });
    expect(r.status).toBe(202);
    expect(r.op).toMatchObject({ status: "Success", metadata: { location: "n1", status: "Running" } });
    const shown = (await h.request("GET", "/1.0/instances/w1")).body.metadata;
    expect(shown).toMatchObject({ status: "Running", status_code: 103, observed: { status: "Running", pid: 100 } });
    // LXD's full form shows the pid the agent reported.
    expect((await h.request("GET", "/1.0/instances/w1?recursion=1")).body.metadata.state).toMatchObject({ status: "Running", pid: 100 });
    expect(agent.answers.at(-1).instances).toEqual([expect.objectContaining({ name: "w1", desired: "Running", config: {} })]);
    const member = (await h.request("GET", "/1.0/cluster/members/n1")).body.metadata;
    expect(member.agent).toMatchObject({ driver: "none", version: "test" });
  });

  it("the long-poll answers at once when its revision is old, and when the member's instances change", async () => {
    await h.addMember("n1");
    const token = await agentToken("n1");
    const first = (await h.request("GET", "/1.0/cluster/members/n1/desired", undefined, token)).body.metadata;
    expect(first).toMatchObject({ instances: [], requests: [] });
    const old = await h.request("GET", `/1.0/cluster/members/n1/desired?since=${first.revision - 1}&wait=30`, undefined, token);
    expect(old.body.metadata.revision).toBe(first.revision); // not held: the agent is behind
    const held = h.request("GET", `/1.0/cluster/members/n1/desired?since=${first.revision}&wait=30`, undefined, token);
    await h.run("POST", "/1.0/instances?target=n1", { name: "w1" }); // no agent heartbeat yet: a record-only member
    const answer = (await held).body.metadata;
    expect(answer.revision).toBeGreaterThan(first.revision);
    expect(answer.instances.map((i: any) => [i.name, i.desired])).toEqual([["w1", "Stopped"]]);
    expect((await h.request("GET", "/1.0/cluster/members/n1/desired?since=abc", undefined, token)).status).toBe(400);
    expect((await h.request("GET", "/1.0/cluster/members/n1/desired?wait=61", undefined, token)).status).toBe(400);
  });

  it("a crash the agent reports shows as Error with its reason, and as an event", async () => {
    await h.addMember("n1");
    const agent = await standIn("n1");
    expect((await h.run("POST", "/1.0/instances?target=n1", { name: "w1", start: true })).op?.status).toBe("Success");
    const events: any[] = [];
    h.berth.services.bus.subscribe((e) => { if (e.type === "lifecycle") events.push(e.metadata); });
    agent.obey = false;
    agent.observed.set("default/w1", { project: "default", name: "w1", status: "Error", reason: "exited with code 3" });
    await agent.report();
    const shown = (await h.request("GET", "/1.0/instances/w1")).body.metadata;
    expect(shown).toMatchObject({ status: "Error", observed: { reason: "exited with code 3" } });
    expect(events).toContainEqual(expect.objectContaining({ action: "instance-error", context: { location: "n1", reason: "exited with code 3" } }));
  });

  it("a step the agent does not carry out fails after cluster.agent_step_timeout, naming the agent", async () => {
    await h.addMember("n1");
    expect((await h.request("PATCH", "/1.0", { config: { "cluster.agent_step_timeout": "1" } })).status).toBe(200);
    const agent = await standIn("n1");
    expect((await h.run("POST", "/1.0/instances?target=n1", { name: "w1" })).op?.status).toBe("Success");
    agent.obey = false;
    const op = await h.request("PUT", "/1.0/instances/w1/state", { action: "start" });
    const done = await wait(op.body.operation!);
    expect(done.status).toBe("Failure");
    expect(done.err).toMatch(/the agent on cluster member "n1" did not report instance "w1" in project "default" running within 1 s/);
  });

  it("an evacuation between members with agents moves the instance only as the agents report each step", async () => {
    for (const name of ["n1", "n2"]) await h.addMember(name);
    const a1 = await standIn("n1");
    const a2 = await standIn("n2");
    expect((await h.run("POST", "/1.0/instances?target=n1", { name: "w1", start: true })).op?.status).toBe("Success");
    const op = await h.request("POST", "/1.0/cluster/members/n1/state", { action: "evacuate" });
    const done = await wait(op.body.operation!);
    expect(done.status, done.err).toBe("Success");
    expect((await h.request("GET", "/1.0/instances/w1")).body.metadata).toMatchObject({ location: "n2", status: "Running", observed: { status: "Running" } });
    expect(a1.observed.has("default/w1")).toBe(false); // the source's agent forgot it
    expect(a2.observed.get("default/w1")?.status).toBe("Running");
    // What the target's agent was told, in order: it arrived stopped, then it was to run.
    const seen = a2.answers.map((a) => a.instances.find((i: any) => i.name === "w1")?.desired).filter(Boolean);
    expect(seen.at(-1)).toBe("Running");
  });
});

describe("requests that ride the long-poll", () => {
  it("an instance's log is asked of its agent and comes back with its answer", async () => {
    await h.addMember("n1");
    await standIn("n1", (name) => `output of ${name}\n`);
    expect((await h.run("POST", "/1.0/instances?target=n1", { name: "w1" })).op?.status).toBe("Success");
    const log = await h.request("GET", "/1.0/instances/w1/log");
    expect(log.status).toBe(200);
    expect(log.body.metadata.log).toBe("output of w1\n");
    await h.addMember("bare");
    expect((await h.run("POST", "/1.0/instances?target=bare", { name: "w2" })).op?.status).toBe("Success");
    const none = await h.request("GET", "/1.0/instances/w2/log");
    expect(none.status).toBe(400);
    expect(none.body.error).toContain("has no agent");
  });
});

describe("what an agent token may touch", () => {
  it("its own member's desired state and answers, nothing of another member (403)", async () => {
    for (const name of ["n1", "n2"]) await h.addMember(name);
    const token = await agentToken("n1");
    expect((await h.request("GET", "/1.0/cluster/members/n1/desired", undefined, token)).status).toBe(200);
    expect((await h.request("GET", "/1.0/cluster/members/n2/desired", undefined, token)).status).toBe(403);
    expect((await h.request("POST", "/1.0/cluster/members/n2/heartbeat", {}, token)).status).toBe(403);
    expect((await h.request("POST", "/1.0/cluster/members/n2/answers/x", { log: "" }, token)).status).toBe(403);
    expect((await h.request("POST", "/1.0/cluster/members/n1/answers/nope", { log: "" }, token)).status).toBe(404);
    expect((await h.request("GET", "/1.0/instances", undefined, token)).status).toBe(403);
    const bad = await h.request("POST", "/1.0/cluster/members/n1/heartbeat", { instances: [{ name: "w", status: "Exploded" }] }, token);
    expect(bad.status).toBe(400);
  });
});
