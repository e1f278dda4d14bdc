/** kill -9 in the middle of an evacuation: on restart the operation resumes and finishes, nothing lost or doubled. */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { SqliteStore } from "../../src/store/sqliteStore.ts";
import { freePort } from "../support/ports.ts";

const children: ChildProcess[] = [];
let dir = "";
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it("resumes an evacuation interrupted by kill -9 and finishes it", async () => {
  dir = mkdtempSync(join(tmpdir(), "berth-resume-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const token = "resume-admin-token";
  const start = (delayMs: number) => {
    const child = spawn(process.execPath, ["bin/berth.js", "serve", "--listen", `127.0.0.1:${port}`, "--data", dir, "--no-local-member"], {
      env: { ...process.env, BERTH_ADMIN_TOKEN: token, BERTH_LOG_LEVEL: "warn", BERTH_EXECUTOR_DELAY_MS: String(delayMs) },
      stdio: ["ignore", "ignore", "inherit"],
    });
    children.push(child);
    return child;
  };
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: body ? JSON.stringify(body) : undefined });
    return { status: r.status, body: await r.json() as any };
  };
  const ready = async () => {
    for (let i = 0; i < 200; i++) {
      try { if ((await fetch(`${url}/`)).ok) return; } catch { /* starting */ }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("server did not start");
  };

  const first = start(40);
  await ready();
  const beat = () => Promise.all(["src", "a", "b", "c"].map((m) => call("POST", `/1.0/cluster/members/${m}/heartbeat`, {})));
  for (const m of ["src", "a", "b", "c"]) {
    await call("POST", "/1.0/cluster/members", { server_name: m, resources: { cpu: { total: 64 }, memory: { total: 256 * 1024 ** 3 } } });
  }
  await beat();
  const names = Array.from({ length: 40 }, (_, i) => `i${String(i).padStart(2, "0")}`);
  // Created directly running, then evacuated with each action taking 40 ms: about 1.2 s in all.
  for (const name of names) {
    const created = await call("POST", "/1.0/instances?target=src", { name, start: true });
    expect(created.status).toBe(202);
    expect((await call("GET", `${created.body.operation}/wait?timeout=30`)).body.metadata.status).toBe("Success");
  }
  const evac = await call("POST", "/1.0/cluster/members/src/state", { action: "evacuate" });
  expect(evac.status).toBe(202);
  // Kill it half way.
  for (let i = 0; i < 100; i++) {
    const op = await call("GET", evac.body.operation);
    if ((op.body.metadata.metadata.done ?? 0) >= 8) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  first.kill("SIGKILL");
  await new Promise((r) => first.once("exit", r));
  // Proof that the kill landed mid-evacuation: what the dead process left in its database.
  const left = new SqliteStore(join(dir, "berth.db"));
  try {
    const onSource = await left.countInstances({ location: "src" });
    expect(onSource, "some instances were still on the source").toBeGreaterThan(0);
    expect(onSource, "some had already moved").toBeLessThan(names.length);
    expect((await left.getOperation(evac.body.operation.split("/").pop()))?.status).toBe("Running");
    expect((await left.getMember("src"))?.state).toBe("EVACUATING");
  } finally {
    await left.close();
  }

  start(0);
  await ready();
  await beat();
  const done = await call("GET", `${evac.body.operation}/wait?timeout=20`);
  expect(done.body.metadata.status).toBe("Success");
  const list = (await call("GET", "/1.0/instances?recursion=1")).body.metadata as any[];
  expect(list.map((i) => i.name).sort()).toEqual(names); // none lost, none duplicated
  for (const i of list) {
    expect(i.location, i.name).not.toBe("src");
    expect(i.status, i.name).toBe("Running");
    expect(i.config["volatile.evacuate.origin"], i.name).toBe("src");
    expect(i.config["volatile.last_state.power"], i.name).toBeUndefined();
  }
  const member = await call("GET", "/1.0/cluster/members/src");
  expect(member.body.metadata.status).toBe("Evacuated");
}, 60_000);
