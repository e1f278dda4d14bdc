/**
 * Berth over three standalone LXD daemons (issue 17), as an operator runs it: `berth serve` over
 * HTTPS, three members joined with tokens, one real `berth agent --driver lxd --lxd-socket` per
 * daemon. Containers created through Berth run in each host's own `lxc list`; an evacuation moves
 * them (the stateful one with LXD's migration API, its file intact; the stateless one recreated
 * from its image), restore brings them home, an agent restarted adopts what runs, and a host
 * killed outright (agent, daemon and container processes) gets its stateless container healed
 * onto another host.
 */
import { execFile } from "node:child_process";
import { pino } from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startServer } from "../../src/cli/serve.ts";
import { pinnedRequestText } from "../../src/net/pinned.ts";
import { AgentProcess, BIN, cleanUpData, tempDir, waitUntil } from "../agent/support.ts";
import { describeWithLxd } from "./describeWithLxd.ts";
import { IMAGE_ALIAS, startLxdHosts, stopLxdHosts, type LxdHost } from "./lxdHosts.ts";

const ADMIN = "lxd-e2e-admin";

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 180_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describeWithLxd("Berth over standalone LXD hosts", () => {
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  let serviceData: string;
  let started: Awaited<ReturnType<typeof startLxdHosts>> | undefined;
  const agents = new Map<string, { process: AgentProcess; data: string; host: LxdHost }>();

  async function api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; metadata: T; error?: string }> {
    const { status, text } = await pinnedRequestText(server!.url, server!.fingerprint, { method, path, body, headers: { authorization: `Bearer ${ADMIN}` } });
    const envelope = JSON.parse(text);
    if (envelope.type === "async") {
      const op = await api(`GET`, `${envelope.operation}/wait?timeout=300`);
      if (op.metadata.status !== "Success") throw new Error(`${method} ${path}: ${op.metadata.status}: ${op.metadata.err} ${JSON.stringify(op.metadata.metadata)}`);
      return op as never;
    }
    return { status, metadata: envelope.metadata, error: envelope.error };
  }
  const instance = async (name: string) => (await api("GET", `/1.0/instances/${name}`)).metadata;
  const host = (member: string) => agents.get(member)!.host;
  const stderrOf = () => [...agents.entries()].map(([m, a]) => `--- ${m}:\n${a.process.stderr.slice(-3000)}`).join("\n");

  /** name → status over every live daemon, as `lxc list` shows them on each. */
  async function everywhere(): Promise<Record<string, Record<string, string>>> {
    const seen: Record<string, Record<string, string>> = {};
    for (const [member, a] of agents) if (!a.host.killed) seen[member] = await a.host.list();
    return seen;
  }

  beforeAll(async () => {
    started = await startLxdHosts(3, "lxd-e2e");
    serviceData = tempDir("lxd-e2e-service");
    server = await startServer({ listen: "127.0.0.1:0", tls: true, unix: false, dataDir: serviceData, localMember: false, adminToken: ADMIN, logger: pino({ level: "silent" }) });
    await api("PATCH", "/1.0", { config: { "cluster.offline_threshold": 10 } });
    for (const [i, name] of ["m1", "m2", "m3"].entries()) {
      const added = await api("POST", "/1.0/cluster/members", { server_name: name, join: true });
      expect(added.status, added.error).toBe(201);
      const data = tempDir(`lxd-e2e-${name}`);
      const lxd = started.hosts[i]!;
      const process = new AgentProcess(["--join", added.metadata.join_token, "--data", data, "--driver", "lxd", "--lxd-socket", lxd.socket]);
      agents.set(name, { process, data, host: lxd });
      await waitUntil(async () => {
        const m = (await api("GET", `/1.0/cluster/members/${name}`)).metadata;
        return m.status === "Online" && m.agent?.driver === "lxd";
      }, `${name} joins; stderr: ${process.stderr}`, 90_000);
    }
  }, 400_000);

  afterAll(async () => {
    for (const { process, data } of agents.values()) {
      await process.kill("SIGKILL");
      cleanUpData(data);
    }
    await server?.close();
    if (serviceData) cleanUpData(serviceData);
    await stopLxdHosts(started);
  }, 400_000);

  it("runs containers on each host's LXD, evacuates (migrating the stateful one with its file), restores, and adopts after an agent restart", { timeout: 900_000 }, async () => {
    const member = (await api("GET", "/1.0/cluster/members/m1")).metadata;
    expect(member.resources.storage.pools.default).toMatchObject({ driver: "dir" });

    const source = { type: "image", alias: IMAGE_ALIAS };
    const quick = { "boot.host_shutdown_timeout": "10", "limits.cpu": "0.2" };
    // As an operator would: `berth instance create --image`, the CLI as a child process.
    // (async: the service runs in this process)
    const cli = await runCli(["--url", server!.url, "--token", ADMIN, "--fingerprint", server!.fingerprint,
      "instance", "create", "keep", "--image", IMAGE_ALIAS, "--target", "m1", "--start", "-c", "boot.host_shutdown_timeout=10", "-c", "limits.cpu=0.2"]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/created on m1 and started/);
    await api("POST", "/1.0/instances?target=m1", { name: "fresh", source, config: { ...quick, "berth.stateless": "true" }, start: true });
    await api("POST", "/1.0/instances?target=m2", { name: "other", source, config: quick, start: true });
    for (const n of ["keep", "fresh", "other"]) expect(await instance(n)).toMatchObject({ status: "Running" });
    expect(await everywhere()).toEqual({ m1: { keep: "RUNNING", fresh: "RUNNING" }, m2: { other: "RUNNING" }, m3: {} });
    expect((await host("m1").api("GET", "/1.0/instances/keep")).config["user.berth.member"]).toBe("m1");
    await host("m1").ok(["exec", "keep", "--", "/bin/sh", "-c", "echo written-before-the-move > /root/marker"]);

    // The dry run says how each one would travel.
    const plan = (await api("POST", "/1.0/cluster/members/m1/state", { action: "evacuate", dry_run: true })).metadata;
    const methods = Object.fromEntries(plan.instances.map((e: any) => [e.name, `${e.action}/${e.method}`]));
    expect(methods).toEqual({ keep: "migrate/migrate", fresh: "migrate/recreate" });

    await api("POST", "/1.0/cluster/members/m1/state", { action: "evacuate" });
    const keep = await instance("keep");
    const fresh = await instance("fresh");
    expect(["m2", "m3"]).toContain(keep.location);
    expect(["m2", "m3"]).toContain(fresh.location);
    expect(keep.status).toBe("Running");
    let seen = await everywhere();
    expect(seen.m1, stderrOf()).toEqual({});
    expect(seen[keep.location]).toMatchObject({ keep: "RUNNING" });
    expect(seen[fresh.location]).toMatchObject({ fresh: "RUNNING" });
    const marker = await host(keep.location).ok(["exec", "keep", "--", "/bin/cat", "/root/marker"]);
    expect(marker.trim()).toBe("written-before-the-move");

    await api("POST", "/1.0/cluster/members/m1/state", { action: "restore" });
    for (const n of ["keep", "fresh"]) expect(await instance(n)).toMatchObject({ location: "m1", status: "Running" });
    seen = await everywhere();
    expect(seen).toEqual({ m1: { keep: "RUNNING", fresh: "RUNNING" }, m2: { other: "RUNNING" }, m3: {} });
    expect((await host("m1").ok(["exec", "keep", "--", "/bin/cat", "/root/marker"])).trim()).toBe("written-before-the-move");

    // An agent killed and restarted with only --data adopts what runs: nothing restarted, nothing duplicated.
    const m1 = agents.get("m1")!;
    const pidBefore = (await m1.host.api("GET", "/1.0/instances/keep/state")).pid;
    await m1.process.kill("SIGKILL");
    m1.process = new AgentProcess(["--data", m1.data]);
    await waitUntil(() => m1.process.stderr.includes("desired state"), `m1's agent is back: ${m1.process.stderr}`, 60_000);
    await waitUntil(async () => (await api("GET", "/1.0/cluster/members/m1")).metadata.status === "Online", "m1 online again", 60_000);
    expect((await m1.host.api("GET", "/1.0/instances/keep/state")).pid).toBe(pidBefore);
    expect(await m1.host.list()).toEqual({ keep: "RUNNING", fresh: "RUNNING" });

    // A container Berth does not own is left alone, and deleting through Berth deletes on LXD.
    await m1.host.ok(["init", IMAGE_ALIAS, "mine"]);
    await api("DELETE", "/1.0/instances/fresh?force=true");
    await waitUntil(async () => !("fresh" in (await m1.host.list())), "fresh is deleted from m1's LXD", 60_000);
    expect(await m1.host.list()).toEqual({ keep: "RUNNING", mine: "STOPPED" });
    await m1.host.ok(["delete", "mine"]);
  });

  it("heals a stateless container of a host that was killed outright onto another host", { timeout: 600_000 }, async () => {
    const source = { type: "image", alias: IMAGE_ALIAS };
    await api("POST", "/1.0/instances?target=m3", { name: "web", source, config: { "boot.host_shutdown_timeout": "10", "berth.stateless": "true" }, start: true });
    expect(await host("m3").list()).toEqual({ web: "RUNNING" });
    await api("PATCH", "/1.0", { config: { "cluster.healing_threshold": 15 } });
    await waitUntil(async () => (await api("GET", "/1.0/cluster/members/m3")).metadata.status === "Online", "m3 heartbeats the new threshold", 30_000);
    await new Promise((r) => setTimeout(r, 6_000)); // a heartbeat carries the acknowledged threshold (every offline_threshold/4 s)

    const m3 = agents.get("m3")!;
    await m3.process.kill("SIGKILL");
    m3.host.kill();
    // The heal ends (m3 Evacuated) once the target's agent reports the container running.
    await waitUntil(async () => (await api("GET", "/1.0/cluster/members/m3")).metadata.status === "Evacuated" && (await instance("web")).location !== "m3",
      `web is healed off m3; stderr: ${stderrOf()}`, 180_000);
    const heals = (await api("GET", "/1.0/operations?recursion=1")).metadata;
    const ops = [...(heals.success ?? []), ...(heals.failure ?? []), ...(heals.running ?? [])];
    await waitUntil(async () => {
      const web = await instance("web");
      return web.status === "Running" && (await host(web.location).list()).web === "RUNNING";
    }, `web runs on its new host; operations: ${JSON.stringify(ops.map((o: any) => [o.description, o.status, o.err]))}`, 120_000);
    const web = await instance("web");
    expect(["m1", "m2"]).toContain(web.location);
    expect(web.config["volatile.evacuate.origin"]).toBe("m3");
    expect(await host(web.location).list()).toMatchObject({ web: "RUNNING" });
    expect((await api("GET", "/1.0/cluster/members/m3")).metadata.status).toBe("Evacuated");
  });
});
