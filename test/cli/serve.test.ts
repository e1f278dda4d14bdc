/** berth serve's listeners: HTTP on --listen and the local unix socket, whose users are admin. */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { spawn, spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/cli/serve.ts";
import { unixRequest } from "../support/unixHttp.ts";

const dirs: string[] = [];
const running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "berth-serve-"));
  dirs.push(dir);
  return dir;
}

async function start(dataDir: string, unix?: string | false): Promise<RunningServer> {
  const server = await startServer({
    listen: "127.0.0.1:0", dataDir, localMember: false, adminToken: "serve-test-token", logger: pino({ level: "silent" }), unix,
  });
  running.push(server);
  return server;
}

describe("berth serve: the unix socket", () => {
  it("listens on <data>/unix.socket with mode 0660; whoever opens it is admin without a token, TCP still needs one", async () => {
    const dir = tempDir();
    const server = await start(dir);
    const path = join(dir, "unix.socket");
    expect(server.socketPath).toBe(path);
    const mode = statSync(path);
    expect(mode.isSocket()).toBe(true);
    expect(mode.mode & 0o777).toBe(0o660);

    const info = await unixRequest(path, "GET", "/1.0");
    expect(info.status).toBe(200);
    expect(info.body.metadata).toMatchObject({ auth: "trusted", auth_user_method: "unix", auth_user_name: "unix-socket" });
    // A write, as an admin: no Authorization header anywhere.
    expect((await unixRequest(path, "POST", "/1.0/cluster/groups", { name: "racks" })).status).toBe(201);
    expect((await unixRequest(path, "POST", "/1.0/tokens", { role: "viewer" })).status).toBe(201);

    const tcp = await fetch(`${server.url}/1.0/cluster/groups`);
    expect(tcp.status).toBe(401);
    // A header cannot make a TCP request local.
    const spoofed = await fetch(`${server.url}/1.0`, { headers: { berthLocalSocket: "true", host: "unix.socket" } });
    expect(spoofed.status).toBe(401);

    await server.close();
    running.splice(running.indexOf(server), 1);
    expect(existsSync(path)).toBe(false);
  });

  it("--unix PATH moves it, --no-unix turns it off", async () => {
    const elsewhere = join(tempDir(), "berth.sock");
    const moved = await start(tempDir(), elsewhere);
    expect(moved.socketPath).toBe(elsewhere);
    expect((await unixRequest(elsewhere, "GET", "/1.0/cluster/members")).status).toBe(200);

    const dir = tempDir();
    const none = await start(dir, false);
    expect(none.socketPath).toBeNull();
    expect(existsSync(join(dir, "unix.socket"))).toBe(false);
  });

  it("replaces a stale socket file; refuses one another process serves, and a path that is not a socket", async () => {
    const staleDir = tempDir();
    const stalePath = join(staleDir, "unix.socket");
    // A socket file nobody serves any more: what kill -9 leaves behind.
    const killed = spawnSync(process.execPath, ["-e", `require("node:net").createServer().listen(${JSON.stringify(stalePath)}, () => process.kill(process.pid, "SIGKILL"))`]);
    expect(killed.signal).toBe("SIGKILL");
    expect(statSync(stalePath).isSocket()).toBe(true);
    const server = await start(staleDir);
    expect((await unixRequest(stalePath, "GET", "/1.0")).status).toBe(200);

    await expect(start(tempDir(), stalePath)).rejects.toThrow(/another process serves .*unix\.socket/);

    const fileDir = tempDir();
    writeFileSync(join(fileDir, "unix.socket"), "not a socket");
    await expect(start(fileDir)).rejects.toThrow(/exists and is not a socket/);
    expect(server.socketPath).toBe(stalePath);
  });
});

describe("berth serve's flags", () => {
  const BIN = fileURLToPath(new URL("../../bin/berth.js", import.meta.url));
  /**
   * Runs `berth serve ARGS` until it says it is listening, calls `whileRunning`, stops it; returns
   * the socket path it reported (null: none).
   */
  async function serveOnce(dataDir: string, args: string[], whileRunning: () => Promise<void>, logged: (log: string) => void = () => {}): Promise<string | null> {
    const child = spawn(process.execPath, [BIN, "serve", "--listen", "127.0.0.1:0", "--data", dataDir, "--no-local-member", ...args], {
      env: { ...process.env, BERTH_LOG_LEVEL: "info" }, stdio: ["ignore", "ignore", "pipe"],
    });
    const exited = new Promise((r) => child.once("exit", r));
    let log = "";
    child.stderr!.on("data", (c: Buffer) => { log += c.toString(); });
    try {
      for (let i = 0; !log.includes("berth is listening"); i++) {
        if (i > 200) throw new Error(`berth serve did not start: ${log}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await whileRunning();
      const line = log.split("\n").find((l) => l.includes("berth is listening"))!;
      return (JSON.parse(line) as { unix: string | null }).unix;
    } finally {
      child.kill("SIGTERM");
      await exited;
      logged(log);
    }
  }

  it("--unix PATH and --no-unix on the command line; the socket goes when the service stops", async () => {
    const moved = join(tempDir(), "b.sock");
    const reported = await serveOnce(tempDir(), ["--unix", moved], async () => {
      expect((await unixRequest(moved, "GET", "/1.0")).status).toBe(200);
    });
    expect(reported).toBe(moved);
    expect(existsSync(moved)).toBe(false);

    const dir = tempDir();
    expect(await serveOnce(dir, ["--no-unix"], async () => {
      expect(existsSync(join(dir, "unix.socket"))).toBe(false);
    })).toBeNull();
    expect(await serveOnce(dir, [], async () => {
      expect(statSync(join(dir, "unix.socket")).isSocket()).toBe(true);
    })).toBe(join(dir, "unix.socket"));
  });

  it("logs a refused placement as a warning, and one line when it stops", async () => {
    const dir = tempDir();
    let log = "";
    await serveOnce(dir, [], async () => {
      // No member at all: nothing can take it (the socket's user is admin).
      const refused = await unixRequest(join(dir, "unix.socket"), "POST", "/1.0/instances", { name: "web1" });
      expect(refused.status).toBe(409);
    }, (text) => { log = text; });
    const lines = log.trimEnd().split("\n").map((l) => JSON.parse(l) as { level: number; msg: string; instance?: string });
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, msg: "placement refused", instance: "web1" }));
    expect(lines.at(-1)).toMatchObject({ level: 30, msg: "berth stopped" });
  });
});
