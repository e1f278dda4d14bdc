import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeHarness } from "../support/harness.ts";
import { freePort } from "../support/ports.ts";

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "berth-persist-"));
  dirs.push(d);
  return d;
};

describe("persistence", () => {
  it("keeps everything across a clean restart", async () => {
    const dir = tempDir();
    const a = await makeHarness({ dir });
    await a.addMember("n1");
    await a.request("POST", "/1.0/cluster/groups", { name: "gpu", members: ["n1"] });
    await a.request("POST", "/1.0/storage-pools", { name: "ceph", driver: "ceph" });
    await a.request("POST", "/1.0/projects", { name: "team" });
    await a.request("POST", "/1.0/instances?project=team&target=n1", { name: "db", config: { "limits.cpu": "2" } });
    await a.request("PATCH", "/1.0", { config: { "scheduler.strategy": "spread" } });
    const viewer = (await a.request("POST", "/1.0/tokens", { role: "viewer" })).body.metadata.token;
    await a.close();

    const b = await makeHarness({ dir });
    expect((await b.request("GET", "/1.0/cluster/members/n1")).body.metadata.groups).toEqual(["default", "gpu"]);
    expect((await b.request("GET", "/1.0/storage-pools/ceph")).status).toBe(200);
    expect((await b.request("GET", "/1.0/instances/db?project=team")).body.metadata).toMatchObject({ location: "n1", config: { "limits.cpu": "2" } });
    expect((await b.request("GET", "/1.0")).body.metadata.config).toEqual({ "scheduler.strategy": "spread" });
    expect((await b.request("GET", "/1.0", undefined, viewer)).status).toBe(200);
    await b.close();
  });

  it("marks an operation whose kind cannot resume as failed after a restart", async () => {
    const dir = tempDir();
    const a = await makeHarness({ dir });
    await a.berth.services.store.insertOperation({ id: "op-1", kind: "unknown-kind", description: "Ghost", resources: {}, metadata: {}, input: {}, mayCancel: false }, Date.now());
    await a.close();
    const b = await makeHarness({ dir });
    const op = await b.request("GET", "/1.0/operations/op-1");
    expect(op.body.metadata).toMatchObject({ status: "Failure", err: "Interrupted by a restart of the service" });
    await b.close();
  });

  it("a write the API acknowledged survives kill -9 of the service", async () => {
    const dir = tempDir();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const start = () => {
      const child = spawn(process.execPath, ["bin/berth.js", "serve", "--listen", `127.0.0.1:${port}`, "--data", dir, "--no-local-member"], {
        env: { ...process.env, BERTH_LOG_LEVEL: "warn" }, stdio: ["ignore", "ignore", "pipe"],
      });
      children.push(child);
      return child;
    };
    const ready = async () => {
      for (let i = 0; i < 200; i++) {
        try {
          const r = await fetch(`${url}/`);
          if (r.ok) return;
        } catch { /* not yet */ }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error("server did not start");
    };
    const first = start();
    await ready();
    const token = readFileSync(join(dir, "admin.token"), "utf8").trim();
    expect(statSync(join(dir, "admin.token")).mode & 0o777).toBe(0o600);
    const call = (method: string, path: string, body?: unknown) => fetch(`${url}${path}`, {
      method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: body ? JSON.stringify(body) : undefined,
    });
    expect((await call("POST", "/1.0/cluster/members", { server_name: "n1" })).status).toBe(201);
    expect((await call("POST", "/1.0/cluster/members/n1/heartbeat", {})).status).toBe(200);
    const acked: string[] = [];
    for (let i = 0; i < 50; i++) {
      const r = await call("POST", "/1.0/instances?target=n1", { name: `i${i}` });
      // 202: the instance is placed and stored before the answer (its operation only reports it).
      if (r.status === 202) acked.push(`i${i}`);
    }
    first.kill("SIGKILL");
    await new Promise((r) => first.once("exit", r));

    start();
    await ready();
    const list = await (await call("GET", "/1.0/instances")).json() as { metadata: string[] };
    expect(list.metadata.length).toBe(acked.length);
    for (const name of acked) expect(list.metadata).toContain(`/1.0/instances/${name}`);
  }, 30_000);
});
