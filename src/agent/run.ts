/** `berth agent`: wires the configuration, the driver, the client and the loop, and runs until SIGTERM/SIGINT. */
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import pino from "pino";
import { VERSION } from "../domain/version.ts";
import { LocalProbe } from "../members/localMember.ts";
import { Agent } from "./agent.ts";
import { loadAgentConfig, type AgentFlags, type Credential } from "./agentConfig.ts";
import { AgentClient, nodeTransport, type Transport } from "./client.ts";
import { createDriver } from "./drivers/index.ts";
import { InstanceRecords } from "./files.ts";

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
  const driver = await createDriver(settings.driver, { data, member: credential.name, logger }, settings.hooks);
  const client = new AgentClient({ url: credential.url, member: credential.name, credential: credential.credential, transport });
  const probe = new LocalProbe(data, settings.pools);
  const agent = new Agent({
    client, driver, logger, version: VERSION,
    records: new InstanceRecords(data),
    probe: () => probe.read(),
  });
  const stop = async (signal: string) => {
    logger.info({ signal }, "stopping the agent (instances keep running)");
    await agent.stop();
    await rm(join(data, "agent.pid"), { force: true });
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
  logger.info({ url: credential.url, data, driver: settings.driver, pools: settings.pools }, "berth agent starting");
  await agent.start();
  return agent;
}

function defaultTransport(credential: Credential): Transport {
  if (credential.fingerprint && credential.url.startsWith("https:")) {
    // Never talk to a pinned service without checking the pin.
    throw new Error(`${credential.url} is pinned to certificate ${credential.fingerprint}, and this berth has no certificate-pinning transport`);
  }
  return nodeTransport();
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

async function isAgent(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => null);
  return cmdline === null ? true : cmdline.split("\0").includes("agent");
}
