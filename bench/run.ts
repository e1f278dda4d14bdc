/** npm run bench: every benchmark in turn, each printing its figures and a ratio to its baseline. */
const started = performance.now();
const benches = ["./placement.ts", "./scriptlet.ts", "./scriptlet-memory.ts", "./create-http.ts", "./evacuate.ts"];
const only = process.argv.slice(2);
for (const file of benches) {
  if (only.length > 0 && !only.some((o) => file.includes(o))) continue;
  console.log(`\n=== ${file.replace("./", "bench/")} ===`);
  const mod = (await import(file)) as { main: () => Promise<unknown> };
  await mod.main();
}
console.log(`\nall benchmarks done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
