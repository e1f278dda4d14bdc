// Run by standalone.test.ts under plain `node` with no loader: the compiled sandbox (dist/) starts its
// workers from worker.js. The cluster, the requests and the scriptlets come as JSON in argv[2].
import { ScriptletSandbox } from "../../dist/sandbox/index.js";

const { cluster, candidates, ok, stuck } = JSON.parse(process.argv[2]);
const sb = new ScriptletSandbox({ timeoutMs: 1000, memoryMb: 32 }); // room for a loaded machine; the stuck one still ends by it
sb.reset(cluster);
await sb.install(ok.source);
const okOutcome = await sb.place(ok.request, candidates);
await sb.install(stuck.source);
const stuckOutcome = await sb.place(stuck.request, candidates);
await sb.close();
process.stdout.write(JSON.stringify({ ok: okOutcome, stuck: stuckOutcome, execArgv: process.execArgv }));
