/**
 * A randomized concurrency run: creates, deletes, moves, starts/stops, limit changes, member adds
 * and removals, evacuations and restores, all at once over the API, then the invariants Berth
 * promises. A seed fixes the sequence of operations (the interleaving still follows the machine),
 * so a failing seed is the first thing to rerun. Used by test/members/randomized.test.ts with a
 * small count and by bench/concurrency.ts with a large one.
 */
import type { Instance, Member } from "../../src/domain/types.ts";
import type { Harness } from "./harness.ts";

export interface RandomRunOptions {
  seed: number;
  /** Operations in all, spread over the lanes. */
  operations: number;
  /** Operations in flight at once. */
  lanes?: number;
  /** Fixed members (never removed); extra members come and go. */
  members?: number;
}

export interface RandomRunReport {
  seed: number;
  operations: number;
  byKind: Record<string, number>;
  statuses: Record<string, number>;
  /** Every invariant that did not hold, as a sentence. */
  violations: string[];
}

/** mulberry32: a small seeded generator. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GiB = 1024 ** 3;
const FINAL = new Set(["Success", "Failure", "Cancelled"]);

export async function randomRun(h: Harness, opts: RandomRunOptions): Promise<RandomRunReport> {
  const random = seeded(opts.seed);
  const pick = <T>(list: readonly T[]): T | undefined => (list.length === 0 ? undefined : list[Math.floor(random() * list.length)]);
  const lanes = opts.lanes ?? 8;
  const fixed = Array.from({ length: opts.members ?? 5 }, (_, i) => `m${i}`);
  const byKind: Record<string, number> = {};
  const statuses: Record<string, number> = {};
  const violations: string[] = [];
  const operations: string[] = [];
  let created = 0;
  let extra = 0;

  for (const [i, name] of fixed.entries()) {
    await h.addMember(name, { failure_domain: `fd${i % 2}`, resources: { cpu: { total: 2 }, memory: { total: 8 * GiB } } });
  }
  h.executor.jitter(() => Math.floor(random() * 4)); // 0–3 ms per action: steps interleave differently

  const call = async (kind: string, method: string, path: string, body?: unknown) => {
    const r = await h.request(method, path, body);
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    if (r.status >= 500) violations.push(`${method} ${path} answered ${r.status}: ${r.body.error}`);
    if (r.status === 202 && r.body.operation) operations.push(r.body.operation);
    return r;
  };
  const instances = async (): Promise<Instance[]> => (await h.request("GET", "/1.0/instances?recursion=1")).body.metadata;
  const members = async (): Promise<Member[]> => (await h.request("GET", "/1.0/cluster/members?recursion=1")).body.metadata;

  const one = async () => {
    const roll = random();
    if (roll < 0.3) {
      const name = `r${created++}`;
      const target = random() < 0.2 ? `?target=${pick(fixed)}` : "";
      const config: Record<string, string> = { "limits.cpu": pick(["0.5", "1", "2"])!, "limits.memory": pick(["512MiB", "1GiB", "2GiB"])! };
      if (random() < 0.15) config["cluster.evacuate"] = pick(["stop", "migrate", "force-stop"])!;
      await call("create", "POST", `/1.0/instances${target}`, { name, config, start: random() < 0.7 });
    } else if (roll < 0.4) {
      const victim = pick(await instances());
      if (victim) await call("delete", "DELETE", `/1.0/instances/${victim.name}?force=true`);
    } else if (roll < 0.5) {
      const it = pick(await instances());
      if (it) await call("move", "POST", `/1.0/instances/${it.name}${random() < 0.3 ? `?target=${pick(fixed)}` : ""}`, { migration: true });
    } else if (roll < 0.6) {
      const it = pick(await instances());
      if (it) await call("state", "PUT", `/1.0/instances/${it.name}/state`, { action: pick(["start", "stop", "restart"]) });
    } else if (roll < 0.68) {
      const it = pick(await instances());
      if (it) await call("resize", "PATCH", `/1.0/instances/${it.name}`, { config: { "limits.cpu": pick(["0.5", "1", "2", "4"]) } });
    } else if (roll < 0.74) {
      const name = `x${extra++}`;
      const r = await call("member-add", "POST", "/1.0/cluster/members", { server_name: name, resources: { cpu: { total: 2 }, memory: { total: 8 * GiB } } });
      if (r.status === 201) await call("heartbeat", "POST", `/1.0/cluster/members/${name}/heartbeat`, {});
    } else if (roll < 0.8) {
      const gone = pick((await members()).filter((m) => m.server_name.startsWith("x")));
      if (gone) await call("member-remove", "DELETE", `/1.0/cluster/members/${gone.server_name}`);
    } else if (roll < 0.9) {
      const m = pick((await members()).filter((x) => x.status === "Online"));
      if (m) await call("evacuate", "POST", `/1.0/cluster/members/${m.server_name}/state`, { action: "evacuate", ...(random() < 0.2 ? { mode: "stop" } : {}) });
    } else {
      const m = pick((await members()).filter((x) => x.status === "Evacuated"));
      if (m) await call("restore", "POST", `/1.0/cluster/members/${m.server_name}/state`, { action: "restore" });
    }
  };

  let started = 0;
  await Promise.all(Array.from({ length: lanes }, async () => {
    while (started < opts.operations) {
      started++;
      await one();
    }
  }));

  // Every operation ends.
  for (const op of operations) {
    const r = await h.request("GET", `${op}/wait?timeout=60`);
    if (!FINAL.has(r.body.metadata?.status)) violations.push(`operation ${op} did not end: ${r.body.metadata?.status}`);
  }
  h.executor.jitter(null);
  violations.push(...await checkInvariants(h, operations));
  return { seed: opts.seed, operations: started, byKind, statuses, violations };
}

/** The invariants, once every operation has ended. */
export async function checkInvariants(h: Harness, operations: string[]): Promise<string[]> {
  const problems: string[] = [];
  const server = (await h.request("GET", "/1.0")).body.metadata.effective_config ?? {};
  const cpuRatio = Number(server["scheduler.cpu_allocation_ratio"] ?? 4);
  const memoryRatio = Number(server["scheduler.memory_allocation_ratio"] ?? 1);
  const members: Member[] = (await h.request("GET", "/1.0/cluster/members?recursion=1")).body.metadata;
  const instances: Instance[] = (await h.request("GET", "/1.0/instances?recursion=1&all-projects=true")).body.metadata;
  const ops = await Promise.all(operations.map(async (op) => (await h.request("GET", op)).body.metadata));
  // What the evacuations said they left in place (failed instances may still run there).
  const leftRunning = new Set<string>();
  for (const op of ops) {
    for (const i of op?.metadata?.instances ?? []) if (i.outcome === "failed") leftRunning.add(`${i.project}/${i.name}`);
  }
  for (const m of members) {
    const here = instances.filter((i) => i.location === m.server_name);
    const cpu = here.reduce((s, i) => s + Number(i.config["limits.cpu"] ?? 0), 0);
    const memory = here.reduce((s, i) => s + parseMemory(i.config["limits.memory"]), 0);
    const cpuCap = Math.floor((m.resources?.cpu.total ?? 0) * cpuRatio + 1e-6);
    const memoryCap = Math.floor((m.resources?.memory.total ?? 0) * memoryRatio + 1e-6);
    if (cpu > cpuCap + 1e-9) problems.push(`member ${m.server_name} is over its cpu capacity: ${cpu} of ${cpuCap}`);
    if (memory > memoryCap) problems.push(`member ${m.server_name} is over its memory capacity: ${memory} of ${memoryCap}`);
    if (m.status === "Evacuating" || m.status === "Restoring") problems.push(`member ${m.server_name} is left ${m.status} with no operation running`);
    if (m.status === "Evacuated") {
      for (const i of here) {
        if (i.status === "Running" && !leftRunning.has(`${i.project}/${i.name}`)) problems.push(`instance ${i.name} runs on evacuated member ${m.server_name}`);
      }
    }
  }
  const names = new Set(members.map((m) => m.server_name));
  for (const i of instances) if (!names.has(i.location)) problems.push(`instance ${i.name} is on ${i.location}, which is not a member`);
  // No reservation is left: bring every member back and ask the scheduler what is pending.
  for (const m of members) {
    if (m.status === "Evacuated") {
      const r = await h.request("POST", `/1.0/cluster/members/${m.server_name}/state`, { action: "restore", mode: "skip" });
      if (r.status === 202) await h.request("GET", `${r.body.operation}/wait?timeout=60`);
    }
  }
  const query = await h.request("POST", "/1.0/scheduler/placement", { name: "invariant-probe" });
  for (const c of query.body.metadata.candidates ?? []) {
    if (c.pending !== 0) problems.push(`member ${c.server_name} has ${c.pending} reservation(s) left pending`);
  }
  return problems;
}

function parseMemory(text: string | undefined): number {
  if (!text) return 0;
  const m = /^(\d+)(MiB|GiB)$/.exec(text);
  return m ? Number(m[1]) * (m[2] === "GiB" ? GiB : 1024 ** 2) : 0;
}
