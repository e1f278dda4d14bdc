/**
 * Three `berth serve` replicas (the compiled CLI, as child processes) on one throwaway PostgreSQL:
 * concurrent creates through all three never over-commit a member; kill -9 of the leader in the
 * middle of an evacuation → another replica takes the leadership and finishes it; nothing
 * acknowledged is lost, nothing is duplicated; every replica's /1.0/events carries the others'
 * events. Timings are printed, not asserted (bench/ measures them); bounds are generous.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { AgentProcess, tempDir } from "../agent/support.ts";
import { freePort } from "../support/ports.ts";
import { until } from "../support/until.ts";
import { describeWithPostgres, startPostgres, type PostgresServer } from "../support/postgres.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ADMIN = "replicas-admin";
const GiB = 1024 ** 3;

interface Replica { name: string; url: string; child: ChildProcess; dir: string; exited: Promise<void> }

async function call(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(url + path, {
    method, headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

function startReplica(name: string, port: number, store: string): Replica {
  const dir = mkdtempSync(join(tmpdir(), `berth-${name}-`));
  const child = spawn(process.execPath, [
    "bin/berth.js", "serve", "--listen", `127.0.0.1:${port}`, "--data", dir, "--store", store, "--replica-name", name, "--no-unix",
  ], {
    cwd: ROOT,
    // Every simulated instance action takes 300 ms: an evacuation lasts long enough to kill its replica in the middle.
    env: { ...process.env, BERTH_ADMIN_TOKEN: ADMIN, BERTH_LOG_LEVEL: "warn", BERTH_EXECUTOR_DELAY_MS: "300" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return { name, url: `http://127.0.0.1:${port}`, child, dir, exited };
}

const member = (name: string, cpus: number) => ({
  server_name: name,
  resources: { cpu: { total: cpus }, memory: { total: 64 * GiB }, storage: { pools: { default: { total: 1000 * GiB } } } },
});

describeWithPostgres("three replicas on one PostgreSQL", () => {
  let pg: PostgresServer;
  let replicas: Replica[] = [];
  let agent: AgentProcess | null = null;
  let agentData = "";
  beforeAll(async () => {
    pg = await startPostgres();
    const store = await pg.createDatabase();
    for (const name of ["r1", "r2", "r3"]) replicas.push(startReplica(name, await freePort(), store));
    for (const r of replicas) await until(`${r.name} to answer`, async () => (await call(r.url, "GET", "/1.0")).status === 200);
  }, 180_000);
  afterAll(async () => {
    agent?.child.kill("SIGKILL");
    if (agentData) rmSync(agentData, { recursive: true, force: true });
    for (const r of replicas) {
      r.child.kill("SIGKILL");
      await r.exited;
      rmSync(r.dir, { recursive: true, force: true });
    }
    await pg?.stop();
  });

  it("creates through all three at once never over-commit a member; a kill -9 of the leader mid-evacuation is finished by another; nothing lost or duplicated", async () => {
    const [first] = replicas;
    // One leader, and every replica lists all three with their roles.
    const roles = await until("one leader among three listed replicas", async () => {
      const envs = await Promise.all(replicas.map(async (r) => (await call(r.url, "GET", "/1.0")).body.metadata.environment));
      const leaders = envs.filter((e) => e.replica_role === "leader");
      // Each replica records its addresses once it listens; the others read them at their next tick.
      return leaders.length === 1 && envs.every((e) => e.replicas.length === 3 && e.replicas.every((r: { urls: string[] }) => r.urls.length > 0)) ? envs : null;
    });
    expect(new Set(roles.map((e) => e.certificate_fingerprint)).size).toBe(1); // one shared certificate

    expect((await call(first.url, "PATCH", "/1.0", { config: { "cluster.offline_threshold": 3600, "scheduler.cpu_allocation_ratio": 1 } })).status).toBe(200);
    for (const name of ["n1", "n2", "n3"]) {
      expect((await call(first.url, "POST", "/1.0/cluster/members", member(name, 4))).status).toBe(201);
      expect((await call(first.url, "POST", `/1.0/cluster/members/${name}/heartbeat`, {})).status).toBe(200);
    }
    // Each replica's view follows the feed: all three see the members (and the config) before creating.
    for (const r of replicas) {
      await until(`${r.name} to see three members`, async () => (await call(r.url, "GET", "/1.0/cluster/members?recursion=1")).body.metadata.length === 3);
      await until(`${r.name} to see the config`, async () => (await call(r.url, "GET", "/1.0")).body.metadata.config["scheduler.cpu_allocation_ratio"] === "1");
    }
    // Listening to events on r3 while r1 and r2 create.
    const events: any[] = [];
    const controller = new AbortController();
    const stream = fetch(`${replicas[2].url}/1.0/events?type=lifecycle`, { headers: { authorization: `Bearer ${ADMIN}`, accept: "text/event-stream" }, signal: controller.signal })
      .then(async (response) => {
        const reader = response.body!.getReader();
        let text = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          text += new TextDecoder().decode(value);
          const lines = text.split("\n");
          text = lines.pop() ?? "";
          for (const line of lines) if (line.startsWith("data:")) events.push(JSON.parse(line.slice(5))); // Server-Sent Events
        }
      }).catch(() => {});

    // 12 cpus in all; 24 creates of one cpu each, 8 through each replica, all at once.
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) =>
      call(replicas[i % 3].url, "POST", "/1.0/instances", { name: `c${i}`, config: { "limits.cpu": "1" } })));
    const accepted = results.map((r, i) => [r.status, `c${i}`] as const).filter(([status]) => status === 202).map(([, name]) => name);
    const refused = results.filter((r) => r.status !== 202);
    for (const r of refused) expect(r.status, JSON.stringify(r.body)).toBe(409);
    const stored = (await call(first.url, "GET", "/1.0/instances?recursion=1")).body.metadata as { name: string; location: string; config: Record<string, string> }[];
    expect(stored.map((i) => i.name).sort()).toEqual([...accepted].sort()); // every acknowledged create is stored, once
    const perMember = new Map<string, number>();
    for (const i of stored) perMember.set(i.location, (perMember.get(i.location) ?? 0) + Number(i.config["limits.cpu"]));
    for (const [name, cpus] of perMember) expect(cpus, `cpus committed on ${name}`).toBeLessThanOrEqual(4);
    expect(accepted.length).toBeGreaterThanOrEqual(9); // most of the room was used
    console.log(`replicas: ${accepted.length} of 24 creates accepted, ${refused.length} refused (409), per member ${JSON.stringify(Object.fromEntries(perMember))}`);

    // r3's /1.0/events carried the creates made through r1 and r2.
    await until("r3's event stream to carry r1's and r2's creates", async () =>
      events.filter((e) => e.metadata?.action === "instance-created").length >= accepted.length, 30_000);
    controller.abort();
    await stream;

    // Room for an evacuation of n1, then the evacuation through the leader, which is killed in the middle.
    expect((await call(first.url, "POST", "/1.0/cluster/members", member("n4", 32))).status).toBe(201);
    expect((await call(first.url, "POST", "/1.0/cluster/members/n4/heartbeat", {})).status).toBe(200);
    const leader = replicas.find((r) => r.name === roles.find((e) => e.replica_role === "leader").replica)!;
    await until(`${leader.name} to see n4`, async () => (await call(leader.url, "GET", "/1.0/cluster/members/n4")).status === 200);
    // An agent joins through the leader; its join token lists every replica, the leader's first.
    const added = await call(leader.url, "POST", "/1.0/cluster/members", { server_name: "ag", join: true });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    const token = added.body.metadata.join_token as string;
    const tokenAddresses = JSON.parse(Buffer.from(token, "base64url").toString("utf8")).addresses as string[];
    expect(tokenAddresses[0]).toBe(leader.url);
    expect(new Set(tokenAddresses)).toEqual(new Set(replicas.map((r) => r.url)));
    agentData = tempDir("replica-agent");
    agent = new AgentProcess(["--join", token, "--data", agentData, "--driver", "none"]);
    // Online with its first report; its resources come with the first full heartbeat.
    await until("the agent's member to be Online with its resources", async () => {
      const ag = (await call(leader.url, "GET", "/1.0/cluster/members/ag")).body.metadata;
      return ag?.status === "Online" && ag.resources !== null;
    });
    const onN1 = stored.filter((i) => i.location === "n1").map((i) => i.name);
    expect(onN1.length).toBeGreaterThanOrEqual(2);
    const evacuation = await call(leader.url, "POST", "/1.0/cluster/members/n1/state", { action: "evacuate" });
    expect(evacuation.status, JSON.stringify(evacuation.body)).toBe(202);
    const operation = evacuation.body.metadata.id as string;
    const survivors = replicas.filter((r) => r !== leader);
    await until("the evacuation to move its first instance", async () => {
      const left = (await call(survivors[0].url, "GET", "/1.0/instances?recursion=1")).body.metadata.filter((i: any) => i.location === "n1");
      return left.length < onN1.length;
    });
    leader.child.kill("SIGKILL");
    const killedAt = Date.now();
    await leader.exited;

    // Another replica takes the leadership and finishes the evacuation.
    const [taker] = await until("another replica to lead", async () => {
      const envs = await Promise.all(survivors.map(async (r) => (await call(r.url, "GET", "/1.0")).body.metadata.environment));
      return envs.some((e) => e.replica_role === "leader") ? envs.filter((e) => e.replica_role === "leader") : null;
    }, 30_000);
    const tookOverS = (Date.now() - killedAt) / 1000;
    const done = await until("the evacuation to finish", async () => {
      const op = (await call(survivors[0].url, "GET", `/1.0/operations/${operation}`)).body.metadata;
      return op.status !== "Running" ? op : null;
    }, 120_000);
    expect(done.status, done.err).toBe("Success");
    console.log(`replicas: ${taker.replica} took the leadership ${tookOverS.toFixed(1)} s after kill -9 of ${leader.name}; the evacuation finished`);

    const after = (await call(survivors[1].url, "GET", "/1.0/instances?recursion=1")).body.metadata as { name: string; location: string }[];
    expect(after.map((i) => i.name).sort()).toEqual([...accepted].sort()); // nothing lost, nothing duplicated
    expect(after.filter((i) => i.location === "n1")).toEqual([]);
    expect((await call(survivors[1].url, "GET", "/1.0/cluster/members/n1")).body.metadata.status).toBe("Evacuated");
    // The agent failed over: an instance placed on its member through a survivor runs there.
    const onAgent = await call(survivors[0].url, "POST", "/1.0/instances?target=ag", { name: "on-agent", start: true });
    expect(onAgent.status, JSON.stringify(onAgent.body)).toBe(202);
    const started = await until("the instance on the agent's member to start", async () => {
      const op = (await call(survivors[0].url, "GET", `${onAgent.body.operation}`)).body.metadata;
      return op.status !== "Running" ? op : null;
    }, 60_000);
    expect(started.status, `${started.err}; agent log: ${agent!.stderr.slice(-2000)}`).toBe("Success");
    expect((await call(survivors[1].url, "GET", "/1.0/instances/on-agent")).body.metadata).toMatchObject({ location: "ag", status: "Running" });
    // A write through a survivor works.
    const after2 = await call(survivors[1].url, "POST", "/1.0/instances", { name: "after", config: { "limits.cpu": "1" } });
    expect(after2.status, JSON.stringify(after2.body)).toBe(202);
  }, 300_000);
});
