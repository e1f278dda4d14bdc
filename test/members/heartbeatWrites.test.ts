/**
 * Heartbeats are written in batches (MemberService, HEARTBEAT_WRITE_DELAY_MS): the API answers
 * with a heartbeat at once, the store has it after the batch, closing the service writes what is
 * left, and a lifecycle change that lands while a heartbeat is handled is never undone in what
 * the scheduler sees.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { SqliteStore } from "../../src/store/sqliteStore.ts";
import { makeHarness, type Harness } from "../support/harness.ts";

let h: Harness | null = null;
let dir = "";
afterEach(async () => {
  await h?.close();
  h = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const GiB = 1024 ** 3;
const resources = (cpus: number) => ({ cpu: { total: cpus }, memory: { total: 8 * GiB }, storage: { pools: { default: { total: 100 * GiB } } } });

it("answers with a heartbeat at once, stores it with the next batch, and a close writes what is left", async () => {
  dir = mkdtempSync(join(tmpdir(), "berth-beats-"));
  h = await makeHarness({ dir });
  expect((await h.request("POST", "/1.0/cluster/members", { server_name: "n1", resources: resources(4) })).status).toBe(201);
  // The fake clock starts at 2026-01-01T00:00:00Z.
  expect((await h.request("POST", "/1.0/cluster/members/n1/heartbeat", { resources: resources(16) })).status).toBe(200);
  const shown = (await h.request("GET", "/1.0/cluster/members/n1")).body.metadata;
  expect(shown).toMatchObject({ status: "Online", last_heartbeat: "2026-01-01T00:00:00.000Z" });
  expect(shown.resources.cpu.total).toBe(16);
  // Not stored yet; the batch writes it.
  expect((await h.berth.services.store.getMember("n1"))?.last_heartbeat).toBeNull();
  await h.berth.services.members.writeHeartbeats();
  expect(await h.berth.services.store.getMember("n1")).toMatchObject({ last_heartbeat: "2026-01-01T00:00:00.000Z", resources: { cpu: { total: 16 } } });

  await h.clock.advance(5);
  expect((await h.request("POST", "/1.0/cluster/members/n1/heartbeat", {})).status).toBe(200);
  expect((await h.request("GET", "/1.0/cluster/members/n1")).body.metadata.resources.cpu.total).toBe(16); // a bare heartbeat keeps them
  await h.close();
  h = null;
  const store = new SqliteStore(join(dir, "berth.db"));
  try {
    expect(await store.getMember("n1")).toMatchObject({ last_heartbeat: "2026-01-01T00:00:05.000Z", resources: { cpu: { total: 16 } } });
  } finally {
    await store.close();
  }
});

it("a lifecycle change that lands while a heartbeat is handled stays in the scheduler's view", async () => {
  h = await makeHarness();
  await h.addMember("n1");
  const members = h.berth.services.members;
  const seen: string[] = [];
  h.berth.changes.subscribe((c) => { if (c.kind === "member") seen.push(c.member.status); });
  // The heartbeat reads the record; the evacuation's write lands before it publishes.
  const beat = members.heartbeat("n1", null, null);
  await members.setLifecycle("n1", "EVACUATING");
  const published = await beat;
  expect(published.status).toBe("Evacuating");
  expect(seen.at(-1)).toBe("Evacuating");
  expect((await members.get("n1")).status).toBe("Evacuating");
});

it("a member removed and added again under the same name is read afresh", async () => {
  h = await makeHarness();
  await h.addMember("n1", { failure_domain: "rack1" });
  expect((await h.request("GET", "/1.0/cluster/members/n1")).body.metadata.failure_domain).toBe("rack1");
  expect((await h.request("DELETE", "/1.0/cluster/members/n1")).status).toBe(200);
  expect((await h.request("GET", "/1.0/cluster/members/n1")).status).toBe(404);
  expect((await h.request("POST", "/1.0/cluster/members/n1/heartbeat", {})).status).toBe(404);
  await h.addMember("n1", { failure_domain: "rack2" });
  expect((await h.request("GET", "/1.0/cluster/members/n1")).body.metadata.failure_domain).toBe("rack2");
  expect((await h.request("GET", "/1.0/cluster/members?recursion=1")).body.metadata.map((m: { failure_domain: string }) => m.failure_domain)).toEqual(["rack2"]);
});
