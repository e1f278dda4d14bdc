/** `berth agent`: wires the configuration, the driver, the client and the loop, and runs until SIGTERM/SIGINT. */
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import pino from "pino";
import { VERSION } from "../domain/version.ts";
import { LocalProbe } from "../members/localMember.ts";
import { Agent } from "./agent.ts";
import { runsAs } from "./agentScript.ts";
import { loadAgentConfig, type AgentFlags, type Credential } from "./agentConfig.ts";
import { AgentClient, nodeTransport, type Transport } from "./client.ts";
import { createDriver } from "./drivers/index.ts";
import { InstanceRecords } from "./files.ts";
import { fencePath } from "./supervisorState.ts";

export interface RunOptions {
  /** How requests reach the service; by default node:http(s). A certificate-pinning transport goes here. */
  transport?: (credential: Credential) => Transport;
}

/** Starts the agent; resolves once it runs (the loops go on until a signal stops them). */
export async function runAgent(flags: AgentFlags, opts: RunOptions = {}): Promise<Agent> {
  const config = await loadAgentConfig(flags);
  const { credential, settings, data } = config;
  const logger = pino({ level: process.env.BERTH_LOG_LEVEL ?? "info", base: { member: credential.name } }, pino.destination(2));
  await claimDataDir(data);
  const transport = opts.transport ? opts.transport(credential) : defaultTransport(credential);
  const driver = await createDriver(settings.driver, { data, member: credential.name, logger }, settings.hooks, settings.lxdSocket);
  const client = new AgentClient({ url: credential.url, member: credential.name, credential: credential.credential, transport });
  const probe = new LocalProbe(data, settings.pools);
  const agent = new Agent({
    client, driver, logger, version: VERSION,
    records: new InstanceRecords(data),
    probe: async () => {
      const local = await probe.read();
      if (!driver.resources) return local;
      // The driver knows the instances' cpu, memory, pools (and their drivers) and gpus better.
      const own = await driver.resources().catch((err: unknown) => {
        logger.warn({ err: (err as Error).message }, "the driver's resources could not be read; reporting systeminformation's");
        return {};
      });
      return { ...local, resources: { ...local.resources, ...own } };
    },
    fenceFile: fencePath(data),
  });
  const stop = async (signal: string) => {
    logger.info({ signal }, "stopping the agent (instances keep running)");
    await agent.stop();
    await rm(join(data, "agent.pid"), { force: true });
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
  logger.info({ url: credential.url, data, driver: settings.driver, pools: settings.pools, lxd_socket: settings.lxdSocket }, "berth agent starting");
  await agent.start();
  return agent;
}

/** A pinned service is only ever reached through src/net/pinned.ts, which checks the certificate before sending anything. */
function defaultTransport(credential: Credential): Transport {
  if (credential.fingerprint) return pinnedTransport(credential.fingerprint);
  return nodeTransport();
}

function pinnedTransport(fingerprint: string): Transport {
  return async ({ method, url, headers, body, timeoutMs, signal }) => {
    const { pinnedRequestText } = await import("../net/pinned.ts");
    const base = `${url.protocol}//${url.host}`;
    const { status, text } = await pinnedRequestText(base, fingerprint, { method, path: `${url.pathname}${url.search}`, headers, body, signal, timeoutMs });
    return { status, body: text };
  };
}

/**
 * `berth agent --join TOKEN`: trusts only the token's fingerprint, trades its single-use secret
 * for this member's agent credential at the first address that answers, and returns the flags
 * the first start stores in <data>/credential.
 */
export async function joinWithToken(text: string, flags: AgentFlags): Promise<AgentFlags> {
  const { decodeJoinToken } = await import("../domain/joinToken.ts");
  const { pinnedRequestText } = await import("../net/pinned.ts");
  const token = decodeJoinToken(text);
  if (flags.name && flags.name !== token.server_name) {
    throw new Error(`This join token is for member "${token.server_name}", not "${flags.name}"`);
  }
  const failures: string[] = [];
  for (const address of token.addresses) {
    try {
      const { status, text: answer } = await pinnedRequestText(address, token.fingerprint, {
        method: "POST", path: "/1.0/cluster/join", body: { secret: token.secret, server_name: token.server_name }, timeoutMs: 30_000,
      });
      const envelope = JSON.parse(answer) as { error?: string; metadata?: { server_name: string; credential: string } };
      if (status !== 200 || !envelope.metadata) throw new Error(`joining failed (${status}): ${envelope.error ?? answer.slice(0, 200)}`);
      // Every address the token carries (the service's replicas), the one that answered first.
      const url = [address, ...token.addresses.filter((a) => a !== address)].join(",");
      return { ...flags, url, token: envelope.metadata.credential, name: envelope.metadata.server_name, fingerprint: token.fingerprint };
    } catch (err) {
      if ((err as Error).message.startsWith("joining failed")) throw err; // the service answered: do not try the next
      failures.push(`${address}: ${(err as Error).message}`);
    }
  }
  throw new Error(`No address in the join token answered: ${failures.join("; ")}`);
}

/** One agent per data directory: two would both supervise the same instances. */
async function claimDataDir(data: string): Promise<void> {
  const file = join(data, "agent.pid");
  const pid = Number((await readFile(file, "utf8").catch(() => "")).trim());
  if (pid && pid !== process.pid && (await isAgent(pid))) {
    throw new Error(`Another berth agent (pid ${pid}) runs with --data ${data}; stop it first`);
  }
  await writeFile(file, `${process.pid}\n`);
}

function isAgent(pid: number): Promise<boolean> {
  return runsAs(pid, (args) => args.includes("agent"));
}
