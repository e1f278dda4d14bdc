/**
 * A service and real `berth agent` processes (process driver, unless told) joined with tokens,
 * for the end-to-end suites: the admin API over HTTPS pinned to the service's certificate,
 * operations waited for, and everything killed and removed at the end.
 */
import { pino } from "pino";
import { expect } from "vitest";
import { startServer } from "../../src/cli/serve.ts";
import { pinnedRequestText } from "../../src/net/pinned.ts";
import { AgentProcess, cleanUpData, recordedProcesses, quietKill, tempDir, ticks, waitUntil } from "./support.ts";

export const ADMIN = "agent-cluster-admin";

export interface ClusterAgent {
  process: AgentProcess;
  data: string;
}

export class AgentCluster {
  readonly agents = new Map<string, ClusterAgent>();
  private constructor(readonly server: Awaited<ReturnType<typeof startServer>>, readonly data: string) {}

  /** listen: the service's addresses (HTTPS on each). */
  static async start(listen: string | string[] = "127.0.0.1:0"): Promise<AgentCluster> {
    const data = tempDir("cluster-service");
    const server = await startServer({ listen, tls: true, unix: false, dataDir: data, localMember: false, adminToken: ADMIN, logger: pino({ level: "silent" }) });
    return new AgentCluster(server, data);
  }

  /** The API as the admin; an async answer is waited for and its operation returned. */
  async api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; metadata: T; error?: string }> {
    const { status, text } = await pinnedRequestText(this.server.url, this.server.fingerprint, {
      method, path, body, headers: { authorization: `Bearer ${ADMIN}` }, timeoutMs: 120_000,
    });
    const envelope = JSON.parse(text);
    if (envelope.type === "async") return this.api("GET", `${envelope.operation}/wait?timeout=120`);
    return { status, metadata: envelope.metadata, error: envelope.error };
  }

  async instance(name: string): Promise<any> {
    return (await this.api("GET", `/1.0/instances/${name}`)).metadata;
  }

  async member(name: string): Promise<any> {
    return (await this.api("GET", `/1.0/cluster/members/${name}`)).metadata;
  }

  /**
   * Adds a member with a join token and starts its agent (wrap: e.g. `ip netns exec NS`; driver:
   * the agent's --driver and what goes with it); waits until it is Online.
   */
  async join(name: string, wrap: string[] = [], driver: string[] = ["process"]): Promise<ClusterAgent> {
    const added = await this.api("POST", "/1.0/cluster/members", { server_name: name, join: true });
    expect(added.status, added.error).toBe(201);
    const data = tempDir(`cluster-${name}`);
    const agent = { process: new AgentProcess(["--join", added.metadata.join_token, "--data", data, "--driver", ...driver], {}, wrap), data };
    this.agents.set(name, agent);
    await waitUntil(async () => {
      const m = await this.member(name);
      return m.status === "Online" && m.agent?.driver === driver[0];
    }, `${name} joins; stderr: ${agent.process.stderr}`, 90_000);
    return agent;
  }

  /** The host dies: its agent and every process its supervisors run, with -9. */
  async killHost(name: string): Promise<void> {
    const agent = this.agents.get(name)!;
    await agent.process.kill("SIGKILL");
    for (const { supervisor, group } of recordedProcesses(agent.data)) {
      quietKill(supervisor, "SIGKILL");
      if (group) quietKill(-group, "SIGKILL");
    }
  }

  async close(): Promise<void> {
    for (const { process, data } of this.agents.values()) {
      process.child.kill("SIGCONT");
      await process.kill("SIGKILL");
      cleanUpData(data);
    }
    await this.server.close();
    cleanUpData(this.data);
  }
}

/**
 * Each process that wrote to a ticker file ran from its first tick to its last: no two of those
 * spans may overlap, or one instance ran twice at once. Returns the spans, oldest first.
 */
export function expectNoOverlap(file: string): { pid: number; first: bigint; last: bigint }[] {
  const spans = new Map<number, { pid: number; first: bigint; last: bigint }>();
  for (const { pid, at } of ticks(file)) {
    const span = spans.get(pid);
    if (!span) spans.set(pid, { pid, first: at, last: at });
    else if (at > span.last) span.last = at;
  }
  const ordered = [...spans.values()].sort((a, b) => (a.first < b.first ? -1 : 1));
  for (let i = 1; i < ordered.length; i++) {
    const [before, after] = [ordered[i - 1], ordered[i]];
    expect(before.last < after.first, `pid ${before.pid} ticked until ${before.last}, after pid ${after.pid} began at ${after.first}: the instance ran twice at once`).toBe(true);
  }
  return ordered;
}
