/** Run by standalone.test.ts under plain `node --import tsx` (no vitest): the worker must load there too. */
import { ScriptletSandbox } from "../../src/sandbox/index.ts";
import { ALL, scriptlet, smallCluster } from "./support.ts";
import { request } from "./fixtures.ts";

const sb = new ScriptletSandbox({ timeoutMs: 1000, memoryMb: 32 }); // room for a loaded machine; the stuck one still ends by it
sb.reset(smallCluster());
await sb.install(scriptlet(`log_info("from ", request.name); set_target("n3");`));
const ok = await sb.place(request("c1"), ALL);
await sb.install(scriptlet("for (;;) {}"));
const stuck = await sb.place(request("c2"), ALL);
await sb.close();
process.stdout.write(JSON.stringify({ ok, stuck }));
