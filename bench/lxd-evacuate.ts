/**
 * Evacuating N running containers from one LXD host, two ways, in one run, on this machine:
 *
 *   Berth  — three standalone LXD 5.0.2 daemons, `berth serve`, one `berth agent --driver lxd` per
 *            daemon; `POST /1.0/cluster/members/host1/state {"action": "evacuate"}` with
 *            cluster.evacuate.max_parallel 4 (LXD's migration API between the daemons).
 *   LXD    — three daemons joined into one LXD cluster; `lxc cluster evacuate m1 --force`.
 *
 * Same busybox image (its init exits on SIGPWR), same boot.host_shutdown_timeout (10 s), same N.
 * Opt-in and slow (minutes): npm run bench -- lxd-evacuate   (N: BERTH_BENCH_LXD_N, default 8)
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { IMAGE_ALIAS, LxdHost, lxdMissing, startLxdHosts, stopLxdHosts } from "../test/lxd/lxdHosts.ts";
import { freePort } from "../test/support/ports.ts";
import { startService } from "./support.ts";

const N = Number(process.env.BERTH_BENCH_LXD_N ?? 8);
const TIMEOUT = "10";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function berthRun(): Promise<number> {
  const started = await startLxdHosts(3, "bench-lxd");
  const service = await startService();
  const agents: ChildProcess[] = [];
  const dirs: string[] = [];
  try {
    await service.call("PATCH", "/1.0", { config: { "cluster.evacuate.max_parallel": 4, "cluster.agent_step_timeout": 300 } });
    for (const [i, host] of started.hosts.entries()) {
      const name = `host${i + 1}`;
      await service.call("POST", "/1.0/cluster/members", { server_name: name });
      const token = (await service.call("POST", "/1.0/tokens", { role: "agent", member: name })).body.metadata.token as string;
      const data = mkdtempSync(join(tmpdir(), `berth-bench-agent-${name}-`));
      dirs.push(data);
      agents.push(spawn(process.execPath, ["bin/berth.js", "agent", "--url", service.url, "--token", token, "--name", name, "--data", data, "--driver", "lxd", "--lxd-socket", host.socket], {
        env: { ...process.env, BERTH_LOG_LEVEL: "warn" }, stdio: ["ignore", "ignore", "inherit"],
      }));
    }
    for (let i = 0; i < 600; i++) {
      const members = (await service.call("GET", "/1.0/cluster/members?recursion=1")).body.metadata as { status: string }[];
      if (members.every((m) => m.status === "Online")) break;
      await sleep(200);
    }
    for (let i = 0; i < N; i++) {
      const r = await service.call("POST", "/1.0/instances?target=host1", {
        name: `c${i}`, source: { type: "image", alias: IMAGE_ALIAS }, config: { "boot.host_shutdown_timeout": TIMEOUT }, start: true,
      });
      await service.call("GET", `${r.body.operation}/wait?timeout=300`);
    }
    const running = Object.values(await started.hosts[0]!.list()).filter((s) => s === "RUNNING").length;
    if (running !== N) throw new Error(`only ${running} of ${N} containers run on host1`);
    const t0 = performance.now();
    const op = await service.call("POST", "/1.0/cluster/members/host1/state", { action: "evacuate" });
    const done = await service.call("GET", `${op.body.operation}/wait?timeout=3600`);
    const seconds = (performance.now() - t0) / 1000;
    if (done.body.metadata.status !== "Success") throw new Error(`Berth's evacuation failed: ${done.body.metadata.err}`);
    const left = Object.keys(await started.hosts[0]!.list()).length;
    if (left !== 0) throw new Error(`${left} containers left on host1`);
    return seconds;
  } finally {
    for (const a of agents) a.kill("SIGKILL");
    await service.stop();
    await stopLxdHosts(started);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

async function lxdClusterRun(): Promise<number> {
  const started = await startLxdHosts(1, "bench-lxdc"); // m1: the pool, the profile, the image
  const root = started.root;
  const m1 = started.hosts[0]!;
  const members: LxdHost[] = [m1];
  try {
    await m1.ok(["cluster", "enable", "m1"]);
    for (const name of ["m2", "m3"]) {
      const token = (await m1.ok(["cluster", "add", name, "--quiet"])).trim();
      const port = await freePort();
      const host = new LxdHost(name, join(root, name), `127.0.0.1:${port}`);
      members.push(host);
      const preseed = [
        "cluster:", "  enabled: true", `  server_name: ${name}`, `  server_address: 127.0.0.1:${port}`,
        `  cluster_address: ${m1.httpsAddress}`, `  cluster_token: ${token}`,
        "  member_config:", "  - entity: storage-pool", "    name: default", "    key: source", '    value: ""',
      ].join("\n");
      await host.start(preseed);
    }
    for (let i = 0; i < N; i++) await m1.ok(["launch", IMAGE_ALIAS, `c${i}`, "--target", "m1", "-c", `boot.host_shutdown_timeout=${TIMEOUT}`]);
    const t0 = performance.now();
    await m1.ok(["cluster", "evacuate", "m1", "--force"]);
    return (performance.now() - t0) / 1000;
  } finally {
    // Instances first, then members in reverse join order (a member without quorum hangs in shutdown).
    for (let i = 0; i < N; i++) await m1.lxc(["delete", "--force", `c${i}`]);
    for (const host of members.slice().reverse()) await host.destroy();
    rmSync(root, { recursive: true, force: true });
  }
}

export async function main(): Promise<void> {
  const missing = lxdMissing();
  if (missing) {
    console.log(`lxd-evacuate: skipped: ${missing}`);
    return;
  }
  console.log(`lxd-evacuate: ${N} running busybox containers off one LXD host, boot.host_shutdown_timeout=${TIMEOUT}`);
  const berth = await berthRun();
  console.log(`  Berth (3 standalone LXD, lxd agents, max_parallel 4):   ${berth.toFixed(1)} s`);
  const lxd = await lxdClusterRun();
  console.log(`  LXD 5.0.2 lxc cluster evacuate (3-member LXD cluster):  ${lxd.toFixed(1)} s`);
  console.log(`  Berth / LXD: ${(berth / lxd).toFixed(2)}x`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
