/** GET /1.0/events as an RFC 6455 websocket (LXD clients), beside Server-Sent Events, on a listening server. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startServer, type RunningServer } from "../../src/cli/serve.ts";
import { unixRequest } from "../support/unixHttp.ts";

const TOKEN = "ws-test-token";
let server: RunningServer;
let dir: string;
let socket: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "berth-ws-"));
  server = await startServer({
    listen: "127.0.0.1:0", dataDir: dir, localMember: false, localMemberName: "berth-ws-host", adminToken: TOKEN,
    logger: pino({ level: "silent" }),
  });
  socket = server.socketPath!;
  await api("POST", "/1.0/projects", { name: "team" });
  await api("POST", "/1.0/cluster/members", { server_name: "n1", resources: { cpu: { total: 8 }, memory: { total: 2 ** 34 } } });
  await api("POST", "/1.0/cluster/members/n1/heartbeat", {});
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function api(method: string, path: string, body?: unknown) {
  const r = await unixRequest(socket, method, path, body);
  if (r.status >= 300 && r.status !== 202) throw new Error(`${method} ${path}: ${r.status} ${r.body.error}`);
  return r.body;
}

/** A websocket on /1.0/events (over the unix socket unless a URL is given) collecting parsed frames. */
async function listen(query = "", url?: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url ?? `ws+unix://${socket}:/1.0/events${query}`, { headers });
  const frames: any[] = [];
  ws.on("message", (data, isBinary) => {
    expect(isBinary).toBe(false);
    frames.push(JSON.parse(data.toString()));
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return {
    frames,
    async until(test: (frames: any[]) => boolean, ms = 5000) {
      const deadline = Date.now() + ms;
      while (!test(frames)) {
        if (Date.now() > deadline) throw new Error(`timed out; frames: ${JSON.stringify(frames.map((f) => [f.type, f.metadata.action ?? f.metadata.description]))}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close: () => ws.close(),
  };
}

describe("GET /1.0/events as a websocket", () => {
  it("sends each event as one text frame in LXD's api.Event shape, every type by default, the default project only", async () => {
    const all = await listen();
    await api("POST", "/1.0/cluster/groups", { name: "g1" });
    await api("POST", "/1.0/instances?target=n1&project=team", { name: "hidden" });
    await api("POST", "/1.0/instances?target=n1", { name: "seen" });
    const started = await api("PUT", "/1.0/instances/seen/state", { action: "start" });
    await all.until((f) => f.some((e) => e.type === "operation" && e.metadata.id === started.metadata.id && e.metadata.status_code === 200));
    all.close();

    const group = all.frames.find((e) => e.metadata.action === "cluster-group-created");
    expect(group).toEqual({
      type: "lifecycle", timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), location: "berth-ws-host",
      metadata: { action: "cluster-group-created", source: "/1.0/cluster/groups/g1", context: {} },
    });
    expect(all.frames.find((e) => e.metadata.action === "instance-created")).toMatchObject({ project: "default", metadata: { source: "/1.0/instances/seen" } });
    // An event of another project is not sent without all-projects=true (as LXD).
    expect(all.frames.some((e) => e.metadata.source === "/1.0/instances/hidden?project=team")).toBe(false);
    // Operation events carry the whole operation, which the client matches by id and finishes on its status_code.
    const done = all.frames.filter((e) => e.type === "operation" && e.metadata.id === started.metadata.id).at(-1);
    expect(done.metadata).toMatchObject({ status: "Success", status_code: 200, resources: { instances: ["/1.0/instances/seen"] } });
  });

  it("honours ?type=, ?project= and ?all-projects=true", async () => {
    const lifecycle = await listen("?type=lifecycle&project=team");
    const everything = await listen("?all-projects=true");
    await api("PATCH", "/1.0/cluster/members/n1", { description: "rack 1" });
    await api("POST", "/1.0/instances?target=n1&project=team", { name: "t1" });
    await api("POST", "/1.0/instances?target=n1", { name: "d1" });
    await api("PUT", "/1.0/instances/d1/state", { action: "start" });
    await everything.until((f) => f.some((e) => e.type === "operation" && e.metadata.status_code === 200));
    await lifecycle.until((f) => f.some((e) => e.metadata.source === "/1.0/instances/t1?project=team"));
    lifecycle.close();
    everything.close();
    expect(lifecycle.frames.every((e) => e.type === "lifecycle")).toBe(true);
    expect(lifecycle.frames.some((e) => e.metadata.source === "/1.0/instances/d1")).toBe(false);
    // Events of no project reach every listener.
    expect(lifecycle.frames.some((e) => e.metadata.action === "cluster-member-updated")).toBe(true);
    expect(everything.frames.some((e) => e.metadata.source === "/1.0/instances/t1?project=team")).toBe(true);
    expect(everything.frames.some((e) => e.type === "operation")).toBe(true);
  });

  it("refuses bad parameters and missing credentials before the upgrade; TCP with a token works", async () => {
    const refusal = (url: string, headers: Record<string, string> = {}) => new Promise<number>((resolve) => {
      const ws = new WebSocket(url, { headers });
      ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.once("open", () => { ws.close(); resolve(101); });
    });
    const tcp = server.url.replace(/^http/, "ws");
    expect(await refusal(`ws+unix://${socket}:/1.0/events?type=gossip`)).toBe(400);
    expect(await refusal(`ws+unix://${socket}:/1.0/events?project=nowhere`)).toBe(404);
    expect(await refusal(`ws+unix://${socket}:/1.0/events?project=team&all-projects=true`)).toBe(400);
    expect(await refusal(`${tcp}/1.0/events`)).toBe(401);
    const withToken = await listen("", `${tcp}/1.0/events?type=lifecycle`, { authorization: `Bearer ${TOKEN}` });
    await api("POST", "/1.0/cluster/groups", { name: "g2" });
    await withToken.until((f) => f.some((e) => e.metadata.action === "cluster-group-created" && e.metadata.source.endsWith("/g2")));
    withToken.close();
  });

  it("still answers Server-Sent Events when asked for text/event-stream", async () => {
    const controller = new AbortController();
    const res = await fetch(`${server.url}/1.0/events?type=lifecycle`, {
      headers: { authorization: `Bearer ${TOKEN}`, accept: "text/event-stream" }, signal: controller.signal,
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = res.body!.getReader();
    let text = "";
    while (!text.includes("event: ready")) text += new TextDecoder().decode((await reader.read()).value);
    await api("POST", "/1.0/cluster/groups", { name: "g3" });
    while (!text.includes("cluster-group-created")) text += new TextDecoder().decode((await reader.read()).value);
    const data = /^event: lifecycle\ndata: (.*)$/m.exec(text.slice(text.indexOf("event: lifecycle")))![1];
    expect(JSON.parse(data)).toMatchObject({ type: "lifecycle", location: "berth-ws-host", metadata: { source: "/1.0/cluster/groups/g3" } });
    controller.abort();
  });
});
