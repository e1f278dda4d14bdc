/**
 * Scriptlet overhead: the spread-across-failure-domains example run through the sandbox (worker
 * round trip + QuickJS) beside the same policy as a plain in-process function, at 10, 100 and 1,000
 * candidates; then throughput of the worker pool under concurrent calls.
 * Run: npx tsx bench/scriptlet.ts   (bounded to ~30 s)
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { ScriptletSandbox } from "../src/sandbox/index.ts";
import type { Member } from "../src/domain/types.ts";
import type { ReplicaSnapshot, ScriptletInstance, ScriptletRequest } from "../src/sandbox/types.ts";
import { cluster, request } from "../test/sandbox/fixtures.ts";

const SPREAD = readFileSync(new URL("../scriptlets/spread-failure-domains.js", import.meta.url), "utf8");
const TARGETS: Record<number, number> = { 100: 0.3, 1000: 2 }; // ms of overhead allowed

/** The same policy as scriptlets/spread-failure-domains.js, as ordinary in-process code. */
function spreadPlain(req: ScriptletRequest, candidates: Member[], members: Member[], instances: ScriptletInstance[]): string | null {
  const domainOf: Record<string, string> = {};
  for (const m of members) domainOf[m.server_name] = m.failure_domain;
  const count: Record<string, number> = {};
  for (const i of instances) {
    if (i.project !== req.project) continue;
    const d = domainOf[i.location];
    if (d !== undefined) count[d] = (count[d] || 0) + 1;
  }
  let best: Member | null = null;
  let bestCount = Infinity;
  for (const m of candidates) {
    const n = count[m.failure_domain] || 0;
    if (n < bestCount) {
      best = m;
      bestCount = n;
    }
  }
  return best ? best.server_name : null;
}

function timePlain(snap: ReplicaSnapshot, names: string[], req: ScriptletRequest, budgetMs: number): { ms: number; target: string | null } {
  const byName = new Map(snap.members.map((m) => [m.server_name, m]));
  const instances = snap.instances as ScriptletInstance[];
  let target: string | null = null;
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < budgetMs) {
    for (let k = 0; k < 50; k++, n++) {
      const candidates = names.map((x) => byName.get(x)!); // the service resolves names to members too
      target = spreadPlain(req, candidates, snap.members, instances);
    }
  }
  return { ms: (performance.now() - start) / n, target };
}

async function timeSandbox(sb: ScriptletSandbox, names: string[], req: ScriptletRequest, budgetMs: number): Promise<{ ms: number; target: string | null }> {
  for (let k = 0; k < 30; k++) await sb.place(req, names); // warm-up: caches filled, JIT warm
  let target: string | null = null;
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < budgetMs) {
    const out = await sb.place(req, names);
    if (out.error) throw new Error(out.error);
    target = out.target;
    n++;
  }
  return { ms: (performance.now() - start) / n, target };
}

async function throughput(poolSize: number, snap: ReplicaSnapshot, names: string[], budgetMs: number): Promise<number> {
  const sb = new ScriptletSandbox({ poolSize, timeoutMs: 1000, memoryMb: 64 });
  try {
    sb.reset(snap);
    await sb.ready();
    await sb.install(SPREAD);
    const req = request("tp");
    let done = 0;
    const start = performance.now();
    const lane = async () => {
      while (performance.now() - start < budgetMs) {
        await sb.place(req, names);
        done++;
      }
    };
    await Promise.all(Array.from({ length: 16 }, lane));
    return done / ((performance.now() - start) / 1000);
  } finally {
    await sb.close();
  }
}

export async function main(): Promise<void> {
  const sb = new ScriptletSandbox({ poolSize: 1, timeoutMs: 1000, memoryMb: 64 });
  const rows: string[] = [];
  let failures = 0;
  try {
    await sb.ready();
    await sb.install(SPREAD);
    console.log("candidates  sandbox ms  plain ms  overhead ms  target");
    for (const n of [10, 100, 1000]) {
      const snap = cluster(n, Math.max(2, n / 10));
      sb.reset(snap);
      const names = snap.members.map((m) => m.server_name);
      const req = request(`bench-${n}`);
      const boxed = await timeSandbox(sb, names, req, 4000);
      const plain = timePlain(snap, names, req, 1500);
      if (boxed.target !== plain.target) throw new Error(`sandbox chose ${boxed.target}, plain chose ${plain.target}`);
      const overhead = boxed.ms - plain.ms;
      const limit = TARGETS[n];
      const verdict = limit === undefined ? "" : overhead <= limit ? `  (target ≤ ${limit} ms: ok)` : `  (target ≤ ${limit} ms: MISSED)`;
      if (limit !== undefined && overhead > limit) failures++;
      rows.push(`${String(n).padStart(10)}  ${boxed.ms.toFixed(3).padStart(10)}  ${plain.ms.toFixed(4).padStart(8)}  ${overhead.toFixed(3).padStart(11)}  ${boxed.target}${verdict}`);
      console.log(rows.at(-1));
    }
  } finally {
    await sb.close();
  }
  const snap = cluster(100, 10);
  const names = snap.members.map((m) => m.server_name);
  for (const pool of [1, 2]) {
    const rate = await throughput(pool, snap, names, 3000);
    console.log(`throughput, 100 candidates, pool of ${pool}, 16 concurrent callers: ${rate.toFixed(0)} placements/s`);
  }
  if (failures > 0) process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
