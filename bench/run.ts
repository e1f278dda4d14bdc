/**
 * npm run bench                  the default set, one after the other (about 2 minutes)
 * npm run bench -- NAME [NAME…]  only those, default or opt-in
 * npm run bench -- --list        what there is
 *
 * Each benchmark prints its figures, each line ending with the ratio or difference to a baseline
 * measured in the same run. `npm run bench` builds dist/ first (cli-startup runs the compiled berth).
 */
interface Bench {
  name: string;
  file: string;
  /** Run by a plain `npm run bench`; opt-in ones (for a benchmark that takes minutes) only when named. */
  byDefault: boolean;
  about: string;
}

const BENCHES: Bench[] = [
  { name: "placement", file: "./placement.ts", byDefault: true, about: "built-in placement decisions/s at 100-5,000 members (~20 s)" },
  { name: "scriptlet", file: "./scriptlet.ts", byDefault: true, about: "scriptlet overhead per placement and pool throughput (~30 s)" },
  { name: "scriptlet-memory", file: "./scriptlet-memory.ts", byDefault: true, about: "memory over 100,000 scriptlet placements: does anything grow (~15 s)" },
  { name: "create-http", file: "./create-http.ts", byDefault: true, about: "instance creates/s over HTTP at 1,000 members (~25 s)" },
  { name: "evacuate", file: "./evacuate.ts", byDefault: true, about: "evacuating 250-1,000 instances, with and without a scriptlet (~30 s)" },
  { name: "concurrency", file: "./concurrency.ts", byDefault: true, about: "randomized concurrent operations, then every invariant (~40 s)" },
  { name: "agent-heartbeats", file: "./agent-heartbeats.ts", byDefault: true, about: "1,000 simulated agents heartbeating at 1/s: service CPU and create p99 (~40 s)" },
  { name: "heal", file: "./heal.ts", byDefault: false, about: "time from a dead member's last heartbeat to 1,000 instances running elsewhere, store executor and agents (~1-2 min)" },
  { name: "cli-startup", file: "./cli-startup.ts", byDefault: true, about: "berth CLI calls and berth serve start-up with 100,000 instances (~30 s)" },
  { name: "replicas", file: "./replicas.ts", byDefault: false, about: "creates/s through 1 and 3 PostgreSQL replicas beside SQLite; kill -9 of the leader to the next write and to a new leader (~1-2 min; starts PostgreSQL)" },
  { name: "lxd-evacuate", file: "./lxd-evacuate.ts", byDefault: false, about: "N running LXD containers evacuated by Berth (lxd agents) beside LXD's own lxc cluster evacuate (minutes; real LXD)" },
];

function list(): void {
  console.log("benchmarks (npm run bench -- NAME):");
  for (const b of BENCHES) console.log(`  ${b.name.padEnd(18)} ${b.byDefault ? "default" : "opt-in "}  ${b.about}`);
}

const args = process.argv.slice(2);
if (args.includes("--list")) {
  list();
  process.exit(0);
}
const unknown = args.filter((a) => !BENCHES.some((b) => b.name === a));
if (unknown.length > 0) {
  console.error(`Unknown benchmark ${unknown.map((u) => JSON.stringify(u)).join(", ")}.`);
  list();
  process.exit(2);
}

const chosen = args.length > 0 ? BENCHES.filter((b) => args.includes(b.name)) : BENCHES.filter((b) => b.byDefault);
const started = performance.now();
for (const bench of chosen) {
  console.log(`\n=== bench/${bench.file.replace("./", "")} ===`);
  const mod = (await import(bench.file)) as { main: () => Promise<unknown> };
  await mod.main();
}
console.log(`\n${chosen.map((b) => b.name).join(", ")} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
const optIn = BENCHES.filter((b) => !b.byDefault).map((b) => b.name);
if (args.length === 0 && optIn.length > 0) console.log(`opt-in (name them to run): ${optIn.join(", ")}`);
