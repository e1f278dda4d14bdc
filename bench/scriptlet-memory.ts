/**
 * Memory over 100,000 placements with a scriptlet (the spread-across-failure-domains example, 20
 * candidates, 8 concurrent callers, a member delta every 100 placements): the main thread's heap
 * and RSS and each worker's V8 and QuickJS heaps, after the first 10,000 (warm, the baseline) and
 * at the end; the ratio end/warm says whether anything grows with the number of calls.
 *
 *   npx tsx bench/scriptlet-memory.ts     (about 40 s)
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Member } from "../src/domain/types.ts";
import { ScriptletSandbox } from "../src/sandbox/index.ts";

const TOTAL = 100_000;
const WARM = 10_000;
const MEMBERS = 20;
const MiB = 1024 * 1024;
const SPREAD = readFileSync(new URL("../scriptlets/spread-failure-domains.js", import.meta.url), "utf8");

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

function member(i: number, load: number): Member {
  return {
    server_name: `m${i}`, url: "", architecture: "x86_64", failure_domain: `fd${i % 4}`, description: "", roles: [],
    groups: ["default"], config: {}, status: "Online", message: "Fully operational", last_heartbeat: null,
    resources: {
      cpu: { architecture: "x86_64", total: 32 }, memory: { total: 128 * 1024 ** 3, used: 0 }, storage: { pools: {} },
      gpu: { total: 0, cards: [] }, load: { average_1m: load, average_5m: load, average_15m: load, processes: 100 },
    },
  };
}

export async function main(): Promise<string[]> {
  const lines: string[] = [];
  const say = (line: string) => { console.log(line); lines.push(line); };
  const sandbox = new ScriptletSandbox({ timeoutMs: 1000, memoryMb: 32 });
  try {
    const members = Array.from({ length: MEMBERS }, (_, i) => member(i, 0));
    sandbox.reset({ members, member_states: {}, instances: Array.from({ length: 200 }, (_, i) => ({ name: `i${i}`, project: "default", type: "container" as const, location: `m${i % MEMBERS}`, status: "Running" as const, config: {}, devices: {} })), pending: [], projects: [{ name: "default", description: "", config: {} }] });
    await sandbox.install(SPREAD);
    const names = members.map((m) => m.server_name);
    let next = 0;
    const run = async (until: number) => {
      await Promise.all(Array.from({ length: 8 }, async () => {
        while (next < until) {
          const k = next++;
          if (k % 100 === 0) sandbox.applyDelta({ kind: "member.upsert", member: member(k % MEMBERS, (k % 7) / 7) });
          const outcome = await sandbox.place({
            name: `p${k}`, project: "default", type: "container", reason: "new", architecture: "x86_64",
            config: {}, devices: {}, profiles: ["default"], description: "",
          }, names);
          if (outcome.error) throw new Error(outcome.error);
        }
      }));
    };
    const measure = async () => {
      gc();
      const stats = await sandbox.stats(true);
      const mem = process.memoryUsage();
      return {
        heap: mem.heapUsed / MiB, rss: mem.rss / MiB,
        workers: stats.workers.map((w) => w ? `${(w.heap_used / MiB).toFixed(1)}/${(w.quickjs_bytes / MiB).toFixed(2)}` : "?").join(" "),
      };
    };
    const t0 = performance.now();
    await run(WARM);
    const warm = await measure();
    await run(TOTAL);
    const seconds = (performance.now() - t0) / 1000;
    const end = await measure();
    say(`scriptlet-memory: ${TOTAL} placements in ${seconds.toFixed(1)} s (${(TOTAL / seconds).toFixed(0)}/s, ${MEMBERS} candidates, 8 callers)`);
    say(`scriptlet-memory: main heap ${warm.heap.toFixed(1)} → ${end.heap.toFixed(1)} MiB (ratio ${(end.heap / warm.heap).toFixed(3)}), rss ${warm.rss.toFixed(0)} → ${end.rss.toFixed(0)} MiB (ratio ${(end.rss / warm.rss).toFixed(3)})`);
    say(`scriptlet-memory: workers V8/QuickJS MiB after ${WARM}: ${warm.workers}; after ${TOTAL}: ${end.workers}`);
  } finally {
    await sandbox.close();
  }
  return lines;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
