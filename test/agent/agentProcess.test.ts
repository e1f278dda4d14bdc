/**
 * `berth agent` as a user runs it (bin/berth.js, compiled), against a small fake service that
 * speaks the protocol: the tests drive the desired state and read the agent's reports. Instances
 * run under the process driver as real processes.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ObservedInstance } from "../../src/agent/protocol.ts";
import { freePort } from "../support/ports.ts";
import { desiredInstance, FakeService } from "./fakeService.ts";
import { AgentProcess, alive, cleanUpData, groupAlive, recordedProcesses, tempDir, tickerCommand, tickPidsAfter, ticks, waitUntil } from "./support.ts";

let service: FakeService;
let data: string;
let out: string;
const agents: AgentProcess[] = [];

beforeEach(async () => {
  service = await new FakeService().start();
  data = tempDir("agent");
  out = join(data, "ticks.txt");
});

afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.kill("SIGKILL")));
  cleanUpData(data);
  await service.close();
});

function startAgent(args: string[] = ["--url", service.url, "--token", service.credential, "--name", service.member, "--data", data, "--driver", "process"]): AgentProcess {
  const agent = new AgentProcess(args);
  agents.push(agent);
  return agent;
}

const web = (config: Record<string, string> = {}, power: "Running" | "Stopped" = "Running") =>
  desiredInstance("web", power, { "exec.command": tickerCommand(out), ...config });

const isRunning = (name: string) => (list: ObservedInstance[]) => list.some((i) => i.name === name && i.status === "Running");

describe("berth agent (process driver) against a service", () => {
  it("stores its credential (0600) on the first start and heartbeats this machine's resources", async () => {
    const agent = startAgent();
    await waitUntil(() => service.heartbeats.some((h) => h.resources), `a heartbeat with resources; stderr: ${agent.stderr}`);
    const beat = service.heartbeats.find((h) => h.resources)!;
    expect(beat.agent).toEqual({ version: "0.1.0", driver: "process" });
    expect(beat.resources!.cpu.total).toBeGreaterThan(0);
    expect(beat.resources!.memory.total).toBeGreaterThan(0);
    expect(beat.resources!.storage.pools.default.total).toBeGreaterThan(0); // the data directory's filesystem
    expect(beat.state!.sysinfo.logical_cpus).toBe(beat.resources!.cpu.total);
    expect(beat.instances).toEqual([]);
    // The first poll asks with no revision; the next ones wait on the one it got.
    expect(service.polls[0]).toEqual({ since: null, wait: null });
    await waitUntil(() => service.polls.length >= 2, "the long-poll");
    expect(service.polls[1]).toEqual({ since: String(service.revision), wait: "30" });

    const file = join(data, "credential");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ url: service.url, name: "m1", credential: "agent-secret" });
  });

  it("starts, stops and forgets instances as the desired state changes, reporting each change at once", async () => {
    service.heartbeatInterval = 3600; // after the first one, every report below is a change reported at once
    const agent = startAgent();
    await waitUntil(() => service.heartbeats.some((h) => h.resources), `the first heartbeat; stderr: ${agent.stderr}`);

    service.setDesired([web()]);
    const [running] = await service.waitForReport(isRunning("web"), "web runs");
    expect(running).toEqual({ project: "default", name: "web", status: "Running", pid: running.pid });
    await waitUntil(() => ticks(out).length >= 3, "it ticks");
    expect([...tickPidsAfter(out, 0)]).toEqual([running.pid]);

    service.setDesired([web({}, "Stopped")]);
    await service.waitForReport((l) => l[0]?.status === "Stopped", "web stops");
    expect(service.reportedOf("web")).toEqual({ project: "default", name: "web", status: "Stopped" });
    expect(groupAlive(running.pid!)).toBe(false);

    service.setDesired([web()]);
    const [again] = await service.waitForReport(isRunning("web"), "web runs again");
    expect(again.pid).not.toBe(running.pid);

    service.setDesired([]); // moved away
    await service.waitForReport((l) => l.length === 0, "web is forgotten");
    expect(groupAlive(again.pid!)).toBe(false);
    expect(existsSync(join(data, "instances", "default", "web"))).toBe(false);
    expect(service.heartbeats.filter((h) => h.resources)).toHaveLength(1);
  });

  it("a crash is reported as Error with the reason; boot.autorestart restarts it", async () => {
    const agent = startAgent();
    const crashy = desiredInstance("crashy", "Running", {
      "exec.command": `echo "$$ $(date +%s%N)" >> '${out}'; sleep 0.5; exit 3`,
      "boot.autorestart": "true",
    });
    const steady = desiredInstance("steady", "Running", { "exec.command": `sleep 0.5; kill -9 $$` });
    service.setDesired([crashy, steady]);
    // crashy restarts again and again (1 s, 2 s … apart): three runs, three pids.
    await waitUntil(() => tickPidsAfter(out, 0).size >= 3, `crashy ran three times; stderr: ${agent.stderr}`, 60_000);
    const reports = service.heartbeats.flatMap((h) => h.instances ?? []);
    expect(reports).toContainEqual({ project: "default", name: "crashy", status: "Error", reason: "exited with code 3" });
    // steady has no autorestart: it stays Error, and its reason says how it died.
    await service.waitForReport((l) => l.some((i) => i.name === "steady" && i.status === "Error"), "steady is Error");
    expect(service.reportedOf("steady")).toEqual({ project: "default", name: "steady", status: "Error", reason: "killed by SIGKILL" });
    const runsOfSteady = recordedProcesses(data).length;
    expect(runsOfSteady).toBeGreaterThan(0);
    expect(agent.stderr).toContain("instance failed");

    // A stop clears the Error; a start after it runs it again.
    service.setDesired([crashy, { ...steady, desired: "Stopped" }]);
    await service.waitForReport((l) => l.some((i) => i.name === "steady" && i.status === "Stopped"), "steady is Stopped");
  });

  it("after kill -9 of the agent, a restart with only --data adopts the running instance: one copy, same pid", async () => {
    const first = startAgent();
    service.setDesired([web()]);
    const [running] = await service.waitForReport(isRunning("web"), "web runs");
    const supervisors = recordedProcesses(data);

    await first.kill("SIGKILL");
    const during = ticks(out).length;
    await waitUntil(() => ticks(out).length >= during + 3, "it keeps ticking without its agent");
    expect(supervisors.every((s) => alive(s.supervisor))).toBe(true);

    const heartbeatsBefore = service.heartbeats.length;
    const pollsBefore = service.polls.length;
    const second = startAgent(["--data", data]);
    await waitUntil(() => service.heartbeats.length > heartbeatsBefore, `the restarted agent reports; stderr: ${second.stderr}`);
    // Its first look at the service is a fresh fetch, and its first report has the adopted instance.
    expect(service.polls[pollsBefore]).toEqual({ since: null, wait: null });
    expect(service.heartbeats[heartbeatsBefore].instances).toEqual([{ project: "default", name: "web", status: "Running", pid: running.pid }]);
    const after = ticks(out).length;
    await waitUntil(() => ticks(out).length >= after + 10, "it ticks on");
    expect([...tickPidsAfter(out, 0)]).toEqual([running.pid]);
    expect(recordedProcesses(data)).toEqual(supervisors);
    expect(second.stderr).toContain("adopted the recorded instances");
  });

  it("reconciles what changed while it was down, first thing after the restart", async () => {
    const first = startAgent();
    service.setDesired([web()]);
    const [running] = await service.waitForReport(isRunning("web"), "web runs");
    await first.kill("SIGKILL");

    const otherOut = join(data, "other.txt");
    service.setDesired([desiredInstance("other", "Running", { "exec.command": tickerCommand(otherOut) })]); // web moved away
    const second = startAgent(["--data", data]);
    await service.waitForReport((l) => l.length === 1 && isRunning("other")(l), `web forgotten, other runs; stderr: ${second.stderr}`);
    expect(groupAlive(running.pid!)).toBe(false);
    await waitUntil(() => ticks(otherOut).length >= 2, "other ticks");
  });

  it("answers a log request with the instance's recent output", async () => {
    const agent = startAgent();
    service.setDesired([desiredInstance("chatty", "Running", { "exec.command": `echo "hello from $BERTH_INSTANCE on $BERTH_MEMBER"; exec sleep 60` })]);
    await service.waitForReport(isRunning("chatty"), "chatty runs");
    await waitUntil(() => existsSync(join(data, "logs", "default", "chatty.log")) && readFileSync(join(data, "logs", "default", "chatty.log"), "utf8").includes("hello"), "output in the log");
    service.addRequest({ id: "req-1", kind: "log", project: "default", name: "chatty" });
    await waitUntil(() => service.answers.has("req-1"), `the answer; stderr: ${agent.stderr}`);
    expect(service.answers.get("req-1")!.log).toContain("hello from chatty on m1\n");
  });

  it("the none driver reports what it is told at once", async () => {
    startAgent(["--url", service.url, "--token", service.credential, "--name", service.member, "--data", data]);
    service.setDesired([desiredInstance("rec", "Running")]);
    await service.waitForReport(isRunning("rec"), "rec is Running");
    await waitUntil(() => service.heartbeats.some((h) => h.agent), "a heartbeat with resources");
    expect(service.heartbeats.find((h) => h.agent)?.agent?.driver).toBe("none");
    service.setDesired([desiredInstance("rec", "Stopped")]);
    await service.waitForReport((l) => l[0]?.status === "Stopped", "rec is Stopped");
  });

  it("with several --url addresses (the replicas of one service), skips one that refuses connections and fails over when the one it uses dies", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const second = await new FakeService().start();
    try {
      startAgent(["--url", `${dead},${service.url},${second.url}`, "--token", service.credential, "--name", service.member, "--data", data]);
      service.setDesired([desiredInstance("rec", "Running")]);
      await service.waitForReport(isRunning("rec"), "rec is Running, reported to the first address that answers");
      expect(JSON.parse(readFileSync(join(data, "credential"), "utf8")).url).toBe(`${dead},${service.url},${second.url}`);
      second.setDesired([desiredInstance("rec", "Running")]);
      await service.close(); // the replica it used dies: the next one gets its heartbeats and long-polls
      await second.waitForReport(isRunning("rec"), "rec is Running, reported to the next address");
      await waitUntil(() => second.polls.length > 0, "the desired state long-polled from the next address");
    } finally {
      await second.close();
      service = await new FakeService().start(); // afterEach closes one
    }
  });

  it("says what a first start needs, and keeps retrying a service that refuses its credential", async () => {
    const bare = startAgent(["--data", data]);
    expect((await bare.exited).code).toBe(1);
    expect(bare.stderr).toContain(`No agent credential in ${data} yet: the first start needs --url URL, --token CREDENTIAL, --name MEMBER`);

    const refused = startAgent(["--url", service.url, "--token", "wrong", "--name", "m1", "--data", data]);
    await waitUntil(() => refused.stderr.includes("HTTP 401: Missing or invalid bearer token"), `the refusal is logged; stderr: ${refused.stderr}`);
    expect(refused.child.exitCode).toBeNull();
  });
});
