/**
 * Instances created per second through the real HTTP server (persisted, placed automatically)
 * at 1,000 members with 16 concurrent clients on loopback, beside the same clients reading
 * GET /1.0 (the floor of an authenticated request) in the same run.
 *
 *   npx tsx bench/create-http.ts          (about 25 s)
 *
 * Target: ≥ 1,500 creates/s.
 */
import { pathToFileURL } from "node:url";
import { addMembers, createBody, load, startService } from "./support.ts";

const MEMBERS = 1000;
const CLIENTS = 16;
const SECONDS = 6;

export async function main(): Promise<string[]> {
  const lines: string[] = [];
  const say = (line: string) => { console.log(line); lines.push(line); };
  const service = await startService();
  try {
    const t0 = performance.now();
    await addMembers(service, MEMBERS);
    say(`create-http: ${MEMBERS} members registered and heartbeated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    // Warm up the create path.
    await load(CLIENTS, 1000, 2000, async (i) => (await service.call("POST", "/1.0/instances", { name: `warm${i}` })).status === 202);
    const floor = await load(CLIENTS, SECONDS * 500, 50_000, async () => (await service.call("GET", "/1.0")).status === 200);
    const creates = await load(CLIENTS, SECONDS * 1000, 30_000, async (i) => {
      const r = await service.call("POST", "/1.0/instances", createBody(`i${i}`, i));
      return r.status === 202; // placed and stored; the operation has nothing left to do (no start)
    });
    say(`create-http: ${creates.perSecond.toFixed(0)} creates/s (${creates.ok} ok, ${creates.failed} failed) at ${MEMBERS} members, ${CLIENTS} clients`);
    say(`create-http: baseline GET /1.0: ${floor.perSecond.toFixed(0)} requests/s; creates/baseline = ${(creates.perSecond / floor.perSecond).toFixed(2)}`);
    const list = await service.call("GET", "/1.0/instances?recursion=1");
    const perMember = new Map<string, number>();
    for (const i of list.body.metadata as { location: string }[]) perMember.set(i.location, (perMember.get(i.location) ?? 0) + 1);
    const counts = [...perMember.values()];
    say(`create-http: ${list.body.metadata.length} instances stored; per member min ${Math.min(...counts)} max ${Math.max(...counts)} over ${perMember.size} members`);
  } finally {
    await service.stop();
  }
  return lines;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
