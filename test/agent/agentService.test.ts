/**
 * Real `berth agent` processes (process driver) against the real service (createBerth on a
 * listening server): members come Online with the agent's resources, instances run as real
 * processes, a crash shows as Error, log requests are answered, a move carries the process from
 * one member to the other, and an agent killed with -9 comes back without a second copy.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startServer } from "../../src/cli/serve.ts";
import { AgentProcess, alive, cleanUpData, groupAlive, recordedProcesses, tempDir, tickerCommand, tickPidsAfter, ticks, waitUntil } from "./support.ts";

const ADMIN = "agent-test-admin";
type Server = Awaited<ReturnType<typeof startServer>>;

let server: Server;
let serviceData: string;
const dataDirs: string[] = [];
const agents: AgentProcess[] = [];

beforeEach(async () => {
  serviceData = tempDir("agent-service");
  server = await startServer({ listen: "127.0.0.1:0", dataDir: serviceData, localMember: false, adminToken: ADMIN, logger: pino({ level: "silent" }) });
});

afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.kill("SIGKILL")));
  for (const dir of dataDirs.splice(0)) cleanUpData(dir);
  await server.close();
  cleanUpData(serviceData);
});

/** The API as the admin: the envelope's metadata; an error envelope throws with its message. */
async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const envelope = (await response.json()) as { type: string; error?: string; metadata: unknown; operation?: string };
  if (envelope.type === "error") throw new Error(`${method} ${path}: ${envelope.error}`);
  if (envelope.type === "async") {
    const op = await api<{ status: string; err: string }>("GET", `${envelope.operation}/wait?timeout=120`);
    if (op.status !== "Success") throw new Error(`${method} ${path}: operation ${op.status}: ${op.err}`);
    return op as T;
  }
  return envelope.metadata as T;
}

/** Registers a member, gives it an agent token, and starts `berth agent` for it. */
async function member(name: string): Promise<{ agent: AgentProcess; data: string; token: string }> {
  await api("POST", "/1.0/cluster/members", { server_name: name });
  const { token } = await api<{ token: string }>("POST", "/1.0/tokens", { role: "agent", member: name });
  const data = tempDir(`agent-${name}`);
  dataDirs.push(data);
  const agent = new AgentProcess(["--url", server.url, "--token", token, "--name", name, "--data", data, "--driver", "process"]);
  agents.push(agent);
  await waitUntil(async () => {
    const m = await api("GET", `/1.0/cluster/members/${name}`);
    return m.status === "Online" && m.agent?.driver === "process" && m.resources?.cpu.total > 0;
  }, `${name} is Online with its agent's resources; agent stderr: ${agent.stderr}`);
  return { agent, data, token };
}

const instance = (name: string) => api("GET", `/1.0/instances/${name}`);

describe("berth agent against the Berth service", () => {
  it("runs an instance's command, shows a crash as Error, stops, answers log requests, and survives kill -9", async () => {
    const m1 = await member("m1");
    const out = join(m1.data, "ticks.txt");
    await api("POST", "/1.0/instances?target=m1", { name: "web", config: { "exec.command": `echo "web says hi"; ${tickerCommand(out)}` }, start: true });
    const running = await instance("web");
    expect(running.status).toBe("Running");
    expect(running.observed).toEqual({ project: "default", name: "web", status: "Running", pid: running.observed.pid });
    await waitUntil(() => ticks(out).length >= 3, "web ticks");
    expect([...tickPidsAfter(out, 0)]).toEqual([running.observed.pid]);

    const { log } = await api<{ log: string }>("GET", "/1.0/instances/web/log");
    expect(log).toContain("web says hi\n");

    // kill -9 of the agent, a restart with --data alone: the same process, no second copy.
    await m1.agent.kill("SIGKILL");
    const again = new AgentProcess(["--data", m1.data]);
    agents.push(again);
    await waitUntil(() => again.stderr.includes("adopted the recorded instances") && again.stderr.includes('"msg":"heartbeat"'), `the agent is back; stderr: ${again.stderr}`);
    const before = ticks(out).length;
    await waitUntil(() => ticks(out).length >= before + 10, "web ticks on");
    expect([...tickPidsAfter(out, 0)]).toEqual([running.observed.pid]);
    expect((await instance("web")).status).toBe("Running");

    // A crash: the service shows Error with the reason (no boot.autorestart: it stays so).
    process.kill(running.observed.pid, "SIGKILL");
    await waitUntil(async () => (await instance("web")).status === "Error", "web shows Error");
    expect((await instance("web")).observed.reason).toBe("killed by SIGKILL");

    // Stop clears it (the service's stop completes on "not Running", so Stopped may follow a moment
    // later); start runs a new copy; stop ends it.
    await api("PUT", "/1.0/instances/web/state", { action: "stop" });
    await waitUntil(async () => (await instance("web")).status === "Stopped", "web is Stopped");
    await api("PUT", "/1.0/instances/web/state", { action: "start" });
    const restarted = await instance("web");
    expect(restarted.status).toBe("Running");
    expect(restarted.observed.pid).not.toBe(running.observed.pid);
    await api("PUT", "/1.0/instances/web/state", { action: "stop" });
    expect(groupAlive(restarted.observed.pid)).toBe(false);

    // Deleted: the agent forgets it.
    await api("DELETE", "/1.0/instances/web");
    await waitUntil(() => !existsSync(join(m1.data, "instances", "default", "web")), "the agent forgets web");
  });

  it("a move, an evacuation and a restore stop the process on the source member and start it on the target", async () => {
    const m1 = await member("m1");
    const m2 = await member("m2");
    const out = join(serviceData, "moving.txt");
    await api("POST", "/1.0/instances?target=m1", { name: "mover", config: { "exec.command": tickerCommand(out) }, start: true });
    const [onM1] = recordedProcesses(m1.data);
    expect(alive(onM1.supervisor)).toBe(true);

    await api("POST", "/1.0/instances/mover?target=m2", { migration: true });
    const moved = await instance("mover");
    expect(moved).toMatchObject({ location: "m2", status: "Running" });
    expect(groupAlive(onM1.group!)).toBe(false);
    await waitUntil(() => !existsSync(join(m1.data, "instances", "default", "mover")), "m1's agent forgets mover");
    const [onM2] = recordedProcesses(m2.data);
    expect(onM2.group).toBe(moved.observed.pid);
    const before = ticks(out).length;
    await waitUntil(() => ticks(out).length >= before + 5, "mover ticks on m2");
    expect([...tickPidsAfter(out, before)]).toEqual([moved.observed.pid]);
    expect(readFileSync(join(m2.data, "logs", "default", "mover.log"), "utf8")).toContain("starting:");

    // Evacuating m2 carries it back to m1; restoring m2 brings it home.
    await api("POST", "/1.0/cluster/members/m2/state", { action: "evacuate", mode: "migrate" });
    const evacuated = await instance("mover");
    expect(evacuated).toMatchObject({ location: "m1", status: "Running" });
    expect(groupAlive(moved.observed.pid)).toBe(false);
    expect(recordedProcesses(m1.data).map((p) => p.group)).toEqual([evacuated.observed.pid]);
    await api("POST", "/1.0/cluster/members/m2/state", { action: "restore" });
    const home = await instance("mover");
    expect(home).toMatchObject({ location: "m2", status: "Running" });
    expect(groupAlive(evacuated.observed.pid)).toBe(false);
    const now = ticks(out).length;
    await waitUntil(() => ticks(out).length >= now + 5, "mover ticks on m2 again");
    expect([...tickPidsAfter(out, now)]).toEqual([home.observed.pid]);
  });
});
