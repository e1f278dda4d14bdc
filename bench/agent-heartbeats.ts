/**
 * 1,000 simulated agents (one process, one credential each) heartbeating once a second with the
 * resources and the observed state of their instances, against a real `berth serve`: the
 * service's CPU share (from /proc, user + system time of its process) and the p99 latency of
 * instance creates while that load runs, beside the same creates with no heartbeats in the same run.
 *
 *   npm run bench -- agent-heartbeats      (about 45 s)
 *
 * Goal: < 25 % of one core for 1,000 heartbeats/s.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { pathToFileURL } from "node:url";
import { addMembers, startService, type Service } from "./support.ts";

const AGENTS = 1000;
const SECONDS = 10;
const CLK_TCK = 100; // Linux USER_HZ

/** User + system CPU seconds the process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime (fields 14 and 15)
}

const resources = {
  cpu: { total: 64, architecture: "x86_64" }, memory: { total: 512 * 1024 ** 3, used: 64 * 1024 ** 3 },
  storage: { pools: { default: { total: 10 * 1024 ** 4, used: 1024 ** 4 } } },
  load: { average_1m: 1.5, average_5m: 1.2, average_15m: 1.1, processes: 400 },
};

/** Creates one at a time for `seconds`; returns the latencies in ms. */
async function createLatencies(call: ReturnType<Service["client"]>, prefix: string, seconds: number): Promise<number[]> {
  const out: number[] = [];
  const end = performance.now() + seconds * 1000;
  for (let i = 0; performance.now() < end; i++) {
    const t0 = performance.now();
    const r = await call("POST", "/1.0/instances", { name: `${prefix}${i}`, config: { "limits.cpu": "1" } });
    if (r.status !== 202) throw new Error(`create: ${r.status} ${r.body.error}`);
    out.push(performance.now() - t0);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return out;
}

/** The service's CPU share while `call` runs AGENTS times a second, at most 64 in flight, for `seconds`. */
async function paced(call: () => Promise<unknown>, seconds: number, pid: number): Promise<number> {
  const start = performance.now();
  const end = start + seconds * 1000;
  const inflight = new Set<Promise<unknown>>();
  let sent = 0;
  let cpu0 = -1;
  let t0 = 0;
  while (performance.now() < end) {
    if (cpu0 < 0 && performance.now() - start > 1000) { cpu0 = cpuSeconds(pid); t0 = performance.now(); } // after a settling second
    const due = Math.floor(((performance.now() - start) / 1000) * AGENTS);
    while (sent < due && inflight.size < 64) {
      sent++;
      const p = call().finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const share = (cpuSeconds(pid) - cpu0) / ((performance.now() - t0) / 1000);
  await Promise.all(inflight);
  return share;
}

/** What agent i sends: its resources and the two instances it observes (the names need not exist to be reported). */
const beatBody = (i: number) => ({
  resources, agent: { driver: "process", version: "bench" },
  instances: [{ project: "default", name: `a${i}`, status: "Running", pid: 1000 + i }, { project: "default", name: `b${i}`, status: "Stopped" }],
});

const BARE_SERVER = `
const server = require("node:http").createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const beat = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    const text = JSON.stringify({ type: "sync", status: "Success", status_code: 200, operation: "", error_code: 0, error: "",
      metadata: { status: "Online", message: "Fully operational", offline_threshold: 20, heartbeat_interval: 5, seen: beat.instances.length } });
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  });
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));`;

/** The bare node:http baseline in its own process, and a keep-alive client for it like the service's. */
async function bareServer(): Promise<{ pid: number; call: (body: unknown) => Promise<void>; stop: () => void }> {
  const child = spawn(process.execPath, ["-e", BARE_SERVER], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once("data", (d: Buffer) => resolve(Number(String(d).trim())));
    child.once("exit", (code) => reject(new Error(`the bare server exited (${code})`)));
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const call = (body: unknown) => new Promise<void>((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request({ host: "127.0.0.1", port, method: "POST", path: "/heartbeat", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } }, (res) => {
      res.resume();
      res.once("end", () => resolve());
    });
    req.once("error", reject);
    req.end(payload);
  });
  return { pid: child.pid!, call, stop: () => { agent.destroy(); child.kill("SIGKILL"); } };
}

const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))];

export async function main(): Promise<void> {
  // HEARTBEATS_PROF=DIR: a CPU profile of the service into DIR (stopped with SIGINT at the end).
  const prof = process.env.HEARTBEATS_PROF;
  const service = await startService({}, prof ? ["--cpu-prof", `--cpu-prof-dir=${prof}`] : []);
  try {
    const names = await addMembers(service, AGENTS);
    const tokens: string[] = [];
    for (const name of names) tokens.push((await service.call("POST", "/1.0/tokens", { role: "agent", member: name })).body.metadata.token);
    // Each agent reports two instances it observes (the names need not exist to be reported).
    const beat = (i: number) => service.call("POST", `/1.0/cluster/members/${names[i]}/heartbeat`, beatBody(i), tokens[i]);

    const creator = service.client();
    const quiet = await createLatencies(creator, "quiet", 4);
    const cpuIdle0 = cpuSeconds(service.pid);
    await new Promise((r) => setTimeout(r, 2000));
    const idleShare = (cpuSeconds(service.pid) - cpuIdle0) / 2;

    // The floor: the same rate of the cheapest request (GET /, which answers ["/1.0"]), as the
    // heartbeats are sent — HTTP on loopback alone.
    const floor = await paced(() => service.call("GET", "/"), 5, service.pid);
    // And below it: a bare node:http server that parses the same heartbeats and answers the same
    // envelope, nothing else — node and the kernel's loopback, the least any Node service pays.
    const bare = await bareServer();
    let bareShare: number;
    try {
      bareShare = await paced(() => bare.call(beatBody(0)), 5, bare.pid);
    } finally {
      bare.stop();
    }

    // 1,000 heartbeats a second: each agent once a second, spread evenly.
    let stop = false;
    let sent = 0;
    let failed = 0;
    const loadDone = (async () => {
      const start = performance.now();
      const inflight = new Set<Promise<unknown>>();
      while (!stop) {
        const due = Math.floor(((performance.now() - start) / 1000) * AGENTS);
        while (sent < due && inflight.size < 64) { // as agents do: each waits for its answer
          const i = sent++ % AGENTS;
          const p = beat(i).then((r) => { if (r.status !== 200) failed++; }, () => { failed++; }).finally(() => inflight.delete(p));
          inflight.add(p);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      await Promise.all(inflight);
      return (performance.now() - start) / 1000;
    })();
    await new Promise((r) => setTimeout(r, 1000)); // the load settles
    // The heartbeats alone (the goal's figure), then creates beside them.
    const cpuBeats0 = cpuSeconds(service.pid);
    const tBeats0 = performance.now();
    const sentBefore = sent;
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const beatsShare = (cpuSeconds(service.pid) - cpuBeats0) / ((performance.now() - tBeats0) / 1000);
    const beatsRate = (sent - sentBefore) / ((performance.now() - tBeats0) / 1000);
    const cpu0 = cpuSeconds(service.pid);
    const t0 = performance.now();
    const loaded = await createLatencies(creator, "loaded", SECONDS);
    const share = (cpuSeconds(service.pid) - cpu0) / ((performance.now() - t0) / 1000);
    stop = true;
    const loadSeconds = await loadDone;
    console.log(`agent-heartbeats: ${AGENTS} agents, ${(sent / loadSeconds).toFixed(0)} heartbeats/s sent (${failed} failed)`);
    console.log(`agent-heartbeats: service CPU ${(beatsShare * 100).toFixed(1)} % of one core for ${beatsRate.toFixed(0)} heartbeats/s ` +
      `(goal < 25 %; idle: ${(idleShare * 100).toFixed(1)} %; with creates beside them: ${(share * 100).toFixed(1)} %)`);
    console.log(`agent-heartbeats: floor ${(floor * 100).toFixed(1)} % of one core for ${AGENTS} GET / a second ` +
      `(heartbeats/floor ratio ${(beatsShare / floor).toFixed(2)})`);
    console.log(`agent-heartbeats: a bare node:http server parsing the same heartbeats: ${(bareShare * 100).toFixed(1)} % of one core ` +
      `(heartbeats/bare ratio ${(beatsShare / bareShare).toFixed(2)})`);
    console.log(`agent-heartbeats: create p99 ${p99(loaded).toFixed(1)} ms under load vs ${p99(quiet).toFixed(1)} ms without ` +
      `(ratio ${(p99(loaded) / p99(quiet)).toFixed(2)}; ${loaded.length} and ${quiet.length} creates)`);
  } finally {
    await service.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
