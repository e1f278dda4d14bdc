/**
 * The self-fence of lxd containers (docs/lxd.md) with a real LXD daemon and a real `berth agent
 * --driver lxd`: the agent starts one fence watcher, replaces it when it dies, and a restarted
 * agent adopts it; after kill -9 of the agent (LXD stays up) the watcher force-stops, once the
 * fence deadline has passed, the container healing would move and leaves the pinned one running;
 * the returning agent starts the fenced one again only after reading its desired state; a
 * deliberate stop of the agent leaves the watcher on guard, and removing the agent's data
 * directory ends it.
 *
 * One member only, so the partition guard holds healing back: what stops the container here is the
 * agent's side of the fence alone. Thresholds: offline 10 s, healing 10 s, so the deadline is 8 s
 * after the last heartbeat that was answered; every wait is generous.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { AgentCluster } from "../agent/agentCluster.ts";
import { AgentProcess, waitUntil } from "../agent/support.ts";
import { describeWithLxd } from "./describeWithLxd.ts";
import { IMAGE_ALIAS, startLxdHosts, stopLxdHosts, type LxdHost } from "./lxdHosts.ts";

/** Every process on this machine that is the fence watcher of this agent data directory. */
function watchersOf(data: string): number[] {
  return readdirSync("/proc").filter((e) => /^\d+$/.test(e)).flatMap((pid) => {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      return args.includes(data) && args.some((a) => /lxdFenceWatcher\.js$/.test(a)) ? [Number(pid)] : [];
    } catch {
      return [];
    }
  });
}

describeWithLxd("the fence of lxd containers", () => {
  let started: Awaited<ReturnType<typeof startLxdHosts>> | undefined;
  let host: LxdHost;
  let c: AgentCluster | undefined;

  beforeAll(async () => {
    started = await startLxdHosts(1, "lxd-fence");
    host = started.hosts[0]!;
    c = await AgentCluster.start();
    expect((await c.api("PATCH", "/1.0", { config: { "cluster.offline_threshold": 10, "cluster.healing_threshold": 10 } })).status).toBe(200);
    // The pinned container's root disk is on the host's own pool, which Berth knows as local.
    expect((await c.api("POST", "/1.0/storage-pools", { name: "default", driver: "dir" })).status).toBe(201);
  }, 300_000);

  afterAll(async () => {
    await c?.close();
    await stopLxdHosts(started);
  }, 300_000);

  it("kill -9 of the agent: at the deadline the watcher force-stops what healing would move, and nothing else", { timeout: 600_000 }, async () => {
    const m1 = await c!.join("m1", [], ["lxd", "--lxd-socket", host.socket]);
    const watcherFile = join(m1.data, "lxd-fence-watcher.pid");
    await waitUntil(() => existsSync(watcherFile), `the agent starts its fence watcher; stderr: ${m1.process.stderr}`);
    const first = Number(readFileSync(watcherFile, "utf8"));
    expect(watchersOf(m1.data)).toEqual([first]);
    // A watcher that dies (someone killed it) is replaced by the running agent.
    process.kill(first, "SIGKILL");
    await waitUntil(() => Number(readFileSync(watcherFile, "utf8")) !== first, "the agent starts another watcher", 60_000);
    const watcher = Number(readFileSync(watcherFile, "utf8"));
    await waitUntil(() => watchersOf(m1.data).length === 1, "one watcher runs");
    expect(watchersOf(m1.data)).toEqual([watcher]);

    const source = { type: "image", alias: IMAGE_ALIAS };
    const quick = { "boot.host_shutdown_timeout": "10" };
    const created = await c!.api("POST", "/1.0/instances?target=m1", { name: "web", source, config: { ...quick, "berth.stateless": "true" }, start: true });
    expect(created.metadata.status, created.metadata.err).toBe("Success");
    const pinned = await c!.api("POST", "/1.0/instances?target=m1", {
      name: "db", source, config: quick, devices: { root: { type: "disk", path: "/", pool: "default" } }, start: true,
    });
    expect(pinned.metadata.status, pinned.metadata.err).toBe("Success");
    expect(await host.list()).toEqual({ web: "RUNNING", db: "RUNNING" });
    const lease = () => JSON.parse(readFileSync(join(m1.data, "fence.json"), "utf8"));
    await waitUntil(() => existsSync(join(m1.data, "fence.json")) && lease().deadline !== null, "a heartbeat answer carries the healing threshold");
    expect(lease()).toMatchObject({ thresholdS: 10, marginS: 2, instances: ["default/web"] });

    // A restarted agent adopts the watcher that runs: the same one, and no second.
    await m1.process.kill("SIGKILL");
    m1.process = new AgentProcess(["--data", m1.data]);
    await waitUntil(() => m1.process.stderr.includes("adopted the running lxd fence watcher"), `the agent is back; stderr: ${m1.process.stderr}`, 60_000);
    expect(watchersOf(m1.data)).toEqual([watcher]);
    expect(m1.process.stderr).not.toContain("started the lxd fence watcher");
    await waitUntil(() => m1.process.stderr.includes('"msg":"heartbeat"'), "the restarted agent heartbeats", 60_000);

    // kill -9 of the agent alone: LXD and the containers run on, nobody renews the lease.
    await m1.process.kill("SIGKILL");
    await waitUntil(async () => (await host.list()).web === "STOPPED", "the watcher fences web", 120_000);
    expect(await host.list()).toEqual({ web: "STOPPED", db: "RUNNING" });
    const log = () => readFileSync(join(m1.data, "logs", "lxd-fence-watcher.log"), "utf8");
    await waitUntil(() => log().includes("default/web: force-stopped through LXD"), "the watcher logs its fence");
    expect(log()).toMatch(/fenced: no acknowledged heartbeat for 8 s \(healing threshold 10 s, margin 2 s\); force-stopping default\/web, \d+ ms after the deadline/);
    expect(log()).not.toMatch(/default\/db/);
    expect(watchersOf(m1.data)).toEqual([watcher]);
    // With its only member silent the service heals nothing: the watcher alone stopped web.
    await waitUntil(async () => /healing held back/.test((await c!.member("m1")).message ?? ""), "m1 says healing is held back", 60_000);

    // The agent returns: it adopts the watcher again and starts web only once it has read its desired state.
    m1.process = new AgentProcess(["--data", m1.data]);
    await waitUntil(async () => (await host.list()).web === "RUNNING", `the returning agent starts web again; stderr: ${m1.process.stderr}`, 120_000);
    const back = m1.process.stderr;
    expect(back.indexOf('"msg":"desired state"')).toBeGreaterThan(-1);
    expect(back.indexOf('"msg":"starting"')).toBeGreaterThan(back.indexOf('"msg":"desired state"'));
    expect(watchersOf(m1.data)).toEqual([watcher]);
    await waitUntil(async () => (await c!.instance("web")).status === "Running", "Berth shows web Running");

    // A deliberate stop of the agent leaves the watcher on guard; removing the data directory ends it.
    await m1.process.kill("SIGTERM");
    expect(watchersOf(m1.data)).toEqual([watcher]);
    rmSync(m1.data, { recursive: true, force: true });
    await waitUntil(() => watchersOf(m1.data).length === 0, "the watcher ends once the agent's data directory is gone");
  });
});
