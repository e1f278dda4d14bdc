/** LXD's create `source` is kept with the instance (issue 17): shown, carried in the member's desired state, validated. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { makeHarness, type Harness } from "../support/harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
  await h.addMember("n1");
});
afterEach(async () => { await h.close(); });

it("keeps an image source (alias or fingerprint) with the instance and hands it to the member's agent", async () => {
  const r = await h.run("POST", "/1.0/instances?target=n1", {
    name: "web", source: { type: "image", alias: "busybox", server: "", protocol: "", allow_inconsistent: false, mode: "pull" },
  });
  expect(r.op).toMatchObject({ status: "Success" });
  await h.run("POST", "/1.0/instances?target=n1", { name: "db", source: { type: "image", fingerprint: "ee2b1a40e6b8" } });
  await h.run("POST", "/1.0/instances?target=n1", { name: "empty", source: { type: "none" } });
  expect((await h.request("GET", "/1.0/instances/web")).body.metadata.source).toEqual({ type: "image", alias: "busybox" });
  expect((await h.request("GET", "/1.0/instances/db")).body.metadata.source).toEqual({ type: "image", fingerprint: "ee2b1a40e6b8" });
  expect((await h.request("GET", "/1.0/instances/empty")).body.metadata.source).toBeUndefined();
  const desired = (await h.request("GET", "/1.0/cluster/members/n1/desired")).body.metadata;
  const byName = Object.fromEntries(desired.instances.map((i: any) => [i.name, i.source]));
  expect(byName).toEqual({ web: { type: "image", alias: "busybox" }, db: { type: "image", fingerprint: "ee2b1a40e6b8" }, empty: undefined });
});

it("survives a restart of the service (stored)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-source-"));
  try {
    const a = await makeHarness({ dir });
    await a.addMember("n1");
    await a.run("POST", "/1.0/instances?target=n1", { name: "web", source: { type: "image", alias: "busybox", properties: { os: "busybox" } } });
    await a.close();
    const b = await makeHarness({ dir });
    const again = await b.request("GET", "/1.0/instances/web");
    await b.close();
    expect(again.body.metadata.source).toEqual({ type: "image", alias: "busybox", properties: { os: "busybox" } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it("refuses a bad source with a 400 naming the field, and stores nothing", async () => {
  const cases: [unknown, string][] = [
    [{ type: "image", fingerprint: "not-hex!" }, "fingerprint"],
    [{ type: "migration", mode: "pull" }, "source.type"],
    [{ type: "image", protocol: "ftp" }, "source.protocol"],
    [{ type: "image", alias: 42 }, "alias"],
  ];
  for (const [source, word] of cases) {
    const r = await h.request("POST", "/1.0/instances?target=n1", { name: "bad", source });
    expect(r.status, JSON.stringify(source)).toBe(400);
    expect(r.body.error).toContain(word);
  }
  expect((await h.request("GET", "/1.0/instances/bad")).status).toBe(404);
});
