/**
 * The whole path as an operator runs it: `berth serve` over HTTPS (its own certificate), three
 * members added with join tokens, three real `berth agent --join TOKEN` processes (process
 * driver) that trust only the token's fingerprint. Instances whose command writes its pid and a
 * timestamp to a file every 100 ms are evacuated, restored and relocated, and an agent killed with
 * -9 and restarted with only --data adopts what runs instead of starting a second copy.
 */
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startServer } from "../../src/cli/serve.ts";
import { pinnedRequestText } from "../../src/net/pinned.ts";
import { AgentProcess, cleanUpData, groupAlive, recordedProcesses, tempDir, tickerCommand, tickPidsAfter, ticks, waitUntil } from "./support.ts";

const ADMIN = "agent-e2e-admin";
let server: Awaited<ReturnType<typeof startServer>>;
let serviceData: string;
const agents = new Map<string, { process: AgentProcess; data: string }>();

/** The API as the admin, over HTTPS pinned to the service's fingerprint; waits for operations. */
async function api<T = any>(method: string, path: string, body?: unknown, token: string | null = ADMIN): Promise<{ status: number; metadata: T; error?: string }> {
  const { status, text } = await pinnedRequestText(server.url, server.fingerprint, {
    method, path, body, headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const envelope = JSON.parse(text);
  if (envelope.type === "async") {
    const op = await api(`GET`, `${envelope.operation}/wait?timeout=120`);
    if (op.metadata.status !== "Success") throw new Error(`${method} ${path}: ${op.metadata.status}: ${op.metadata.err}`);
    return op as never;
  }
  return { status, metadata: envelope.metadata, error: envelope.error };
}
const instance = async (name: string) => (await api("GET", `/1.0/instances/${name}`)).metadata;

beforeAll(async () => {
  serviceData = tempDir("e2e-service");
  server = await startServer({ listen: "127.0.0.1:0", tls: true, unix: false, dataDir: serviceData, localMember: false, adminToken: ADMIN, logger: pino({ level: "silent" }) });
  expect(server.url).toMatch(/^https:/);
  for (const name of ["m1", "m2", "m3"]) {
    const added = await api("POST", "/1.0/cluster/members", { server_name: name, join: true });
    expect(added.status, added.error).toBe(201);
    const data = tempDir(`e2e-${name}`);
    const process = new AgentProcess(["--join", added.metadata.join_token, "--data", data, "--driver", "process"]);
    agents.set(name, { process, data });
    await waitUntil(async () => {
      const m = (await api("GET", `/1.0/cluster/members/${name}`)).metadata;
      return m.status === "Online" && m.agent?.driver === "process";
    }, `${name} joins; stderr: ${process.stderr}`, 60_000);
  }
}, 180_000);

afterAll(async () => {
  for (const { process, data } of agents.values()) {
    await process.kill("SIGKILL");
    cleanUpData(data);
  }
  await server.close();
  cleanUpData(serviceData);
}, 60_000);

it("members joined with tokens run real processes that evacuation, restore and relocation carry across, and a killed agent adopts them", { timeout: 300_000 }, async () => {
  const members = (await api("GET", "/1.0/cluster/members?recursion=1")).metadata;
  expect(members.map((m: any) => [m.server_name, m.status, m.agent?.driver])).toEqual([["m1", "Online", "process"], ["m2", "Online", "process"], ["m3", "Online", "process"]]);
  const files = Object.fromEntries(["a", "b", "c"].map((n) => [n, join(serviceData, `${n}.ticks`)]));
  for (const n of ["a", "b", "c"]) {
    const r = await api("POST", "/1.0/instances?target=m1", { name: n, config: { "exec.command": tickerCommand(files[n]), "limits.cpu": "0.1" }, start: true });
    expect(r.status, r.error).toBeLessThan(300);
  }
  const onM1 = Object.fromEntries(await Promise.all(["a", "b", "c"].map(async (n) => [n, (await instance(n)).observed.pid])));
  for (const n of ["a", "b", "c"]) expect(groupAlive(onM1[n])).toBe(true);

  // Evacuate m1: every process stops there and runs on m2 or m3.
  await api("POST", "/1.0/cluster/members/m1/state", { action: "evacuate" });
  for (const n of ["a", "b", "c"]) {
    const now = await instance(n);
    expect(["m2", "m3"]).toContain(now.location);
    expect(now.status).toBe("Running");
    expect(groupAlive(onM1[n])).toBe(false);
    const seen = ticks(files[n]).length;
    await waitUntil(() => ticks(files[n]).length >= seen + 3, `${n} ticks on ${now.location}`);
    expect([...tickPidsAfter(files[n], seen)]).toEqual([now.observed.pid]);
  }
  expect(recordedProcesses(agents.get("m1")!.data)).toEqual([]);

  // Restore m1: they come home, and nothing runs on m2 or m3 any more.
  await api("POST", "/1.0/cluster/members/m1/state", { action: "restore" });
  for (const n of ["a", "b", "c"]) expect(await instance(n)).toMatchObject({ location: "m1", status: "Running" });
  expect(recordedProcesses(agents.get("m2")!.data)).toEqual([]);
  expect(recordedProcesses(agents.get("m3")!.data)).toEqual([]);

  // Relocate one to m3.
  await api("POST", "/1.0/instances/c?target=m3", { migration: true });
  const c = await instance("c");
  expect(c).toMatchObject({ location: "m3", status: "Running" });
  expect(recordedProcesses(agents.get("m3")!.data).map((p) => p.group)).toEqual([c.observed.pid]);

  // kill -9 m1's agent (its supervisors live on), restart it with only --data: no second copy.
  const m1 = agents.get("m1")!;
  const running = new Map(await Promise.all(["a", "b"].map(async (n) => [n, (await instance(n)).observed.pid] as const)));
  await m1.process.kill("SIGKILL");
  const seen = ticks(files.a).length;
  await waitUntil(() => ticks(files.a).length >= seen + 3, "a keeps ticking while its agent is down");
  m1.process = new AgentProcess(["--data", m1.data]);
  await waitUntil(async () => (await api("GET", "/1.0/cluster/members/m1")).metadata.agent !== null, "m1's agent is back");
  const after = ticks(files.a).length;
  await waitUntil(() => ticks(files.a).length >= after + 10, "a ticks after the restart");
  expect([...tickPidsAfter(files.a, after)]).toEqual([running.get("a")]); // the same process: adopted, not started again
  expect(recordedProcesses(m1.data).map((p) => p.group).sort()).toEqual([running.get("a"), running.get("b")].sort());
  expect(await instance("b")).toMatchObject({ location: "m1", status: "Running", observed: { pid: running.get("b") } });
});

it("a join token is single use: exchanging it again is refused with 401", async () => {
  const added = await api("POST", "/1.0/cluster/members", { server_name: "m4", join: true });
  const token = JSON.parse(Buffer.from(added.metadata.join_token, "base64url").toString("utf8"));
  const first = await api("POST", "/1.0/cluster/join", { secret: token.secret }, null);
  expect(first.status, first.error).toBe(200);
  const again = await api("POST", "/1.0/cluster/join", { secret: token.secret }, null);
  expect(again.status).toBe(401);
  expect(again.error).toMatch(/used/i);
});
