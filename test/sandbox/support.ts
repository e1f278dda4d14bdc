/** Shared helpers for sandbox tests: scriptlet sources, a small cluster, a responsiveness probe. */
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ReplicaSnapshot } from "../../src/sandbox/types.ts";
import { instance, member, memberState, project, snapshot } from "./fixtures.ts";

/** A scriptlet whose instance_placement body is `body`. */
export const scriptlet = (body: string): string =>
  `function instance_placement(request, candidate_members) {\n${body}\n}`;

/** Three members over two failure domains, a GPU group, a few instances and one pending placement. */
export function smallCluster(): ReplicaSnapshot {
  return snapshot({
    members: [
      member("n1").domain("rack1").build(),
      member("n2").domain("rack2").groups("gpu").gpus(2).build(),
      member("n3").domain("rack2").load(6).build(),
    ],
    member_states: { n1: memberState(0.5), n3: memberState(7.5) },
    instances: [
      instance("web-1", "n1"),
      instance("web-2", "n2"),
      instance("db-1", "n2", { project: "prod" }),
    ],
    pending: [{ id: "p1", project: "default", location: "n3", name: "web-3" }],
    projects: [project("default"), project("prod", { "restricted.cluster.groups": "gpu" })],
  });
}

export const ALL = ["n1", "n2", "n3"];

/** Serves "ok" on 127.0.0.1 so a test can check the main thread answers HTTP during a call. */
export async function startProbeServer(): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => res.end("ok"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, server };
}

export interface Responsiveness {
  elapsedMs: number; // how long the awaited call took, measured on the main thread
  maxTickGapMs: number; // the longest gap between 5 ms interval ticks during the call
  httpMs: number | null; // how long an HTTP request to the probe server took during the call
  ticksDuringCall: number; // how many times the 5 ms interval ran before the call ended
}

/** Runs `call` while ticking a 5 ms interval and fetching `url` 20 ms in. */
export async function measure<T>(url: string, call: () => Promise<T>): Promise<{ value: T } & Responsiveness> {
  let last = performance.now();
  let maxTickGapMs = 0;
  let ticks = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    maxTickGapMs = Math.max(maxTickGapMs, now - last);
    last = now;
    ticks++;
  }, 5);
  let httpMs: number | null = null;
  const probe = new Promise<void>((resolve) => {
    setTimeout(async () => {
      const t = performance.now();
      try {
        if ((await (await fetch(url)).text()) === "ok") httpMs = performance.now() - t;
      } finally {
        resolve();
      }
    }, 20);
  });
  const started = performance.now();
  const value = await call();
  const elapsedMs = performance.now() - started;
  const ticksDuringCall = ticks;
  await probe;
  clearInterval(ticker);
  return { value, elapsedMs, maxTickGapMs, httpMs, ticksDuringCall };
}
