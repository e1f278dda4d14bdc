/**
 * The agent's start-up settings: flags on the first start, the files under <data> on later ones.
 *   <data>/credential  {url, name, credential, fingerprint?}, mode 0600: where the service is and
 *                      the agent credential bound to this member
 *   <data>/agent.json  {driver, hooks?, lxdSocket?, pools}: how this member runs its instances
 * so that `berth agent --data DIR` alone restarts an agent as it was first started. A flag given on
 * a later start replaces the stored value (and is stored).
 */
import { chmod, mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { isValidName } from "../domain/names.ts";
import { splitAddresses } from "../net/failover.ts";
import { readJson, writeJsonAtomic } from "./files.ts";
import { DRIVER_NAMES, type DriverName } from "./protocol.ts";

export interface Credential {
  url: string;
  name: string;
  credential: string;
  /** sha256 fingerprint of the service's certificate, pinned (from a join token). */
  fingerprint?: string;
}

export interface AgentSettings {
  driver: DriverName;
  /** Absolute path of the hook driver's executables. */
  hooks?: string;
  /** The lxd driver's LXD unix socket (absent: LXD_SOCKET, $LXD_DIR/unix.socket, or LXD's usual places, at each start). */
  lxdSocket?: string;
  /** Storage pool name → a directory on its filesystem. */
  pools: Record<string, string>;
}

export interface AgentFlags {
  data: string;
  url?: string;
  token?: string;
  name?: string;
  driver?: string;
  hooks?: string;
  lxdSocket?: string;
  /** "NAME=PATH", repeatable. */
  pool?: string[];
  /** The service certificate's fingerprint to pin (from a join token). */
  fingerprint?: string;
}

export interface AgentConfig {
  data: string;
  credential: Credential;
  settings: AgentSettings;
}

export const credentialPath = (data: string) => join(data, "credential");
export const settingsPath = (data: string) => join(data, "agent.json");

/** Reads, completes with the flags, checks and stores the agent's configuration; errors say what to pass. */
export async function loadAgentConfig(flags: AgentFlags): Promise<AgentConfig> {
  const data = resolve(flags.data);
  await mkdir(data, { recursive: true, mode: 0o700 });
  const credential = await loadCredential(data, flags);
  const settings = await loadSettings(data, flags);
  return { data, credential, settings };
}

async function loadCredential(data: string, flags: AgentFlags): Promise<Credential> {
  const file = credentialPath(data);
  const stored = await readJson<Partial<Credential>>(file);
  if (stored && flags.name && stored.name && stored.name !== flags.name) {
    throw new Error(`${data} is the data directory of member "${stored.name}", not "${flags.name}": give each member its own --data`);
  }
  const merged: Partial<Credential> = { ...stored };
  if (flags.url) merged.url = splitAddresses(flags.url).join(",");
  if (flags.token) merged.credential = flags.token;
  if (flags.name) merged.name = flags.name;
  if (flags.fingerprint) merged.fingerprint = flags.fingerprint;
  const missing = [!merged.url && "--url URL", !merged.credential && "--token CREDENTIAL", !merged.name && "--name MEMBER"].filter(Boolean);
  if (missing.length > 0) {
    throw new Error(
      stored
        ? `${file} lacks ${missing.join(", ")}: pass ${missing.length > 1 ? "them" : "it"} once to store ${missing.length > 1 ? "them" : "it"}`
        : `No agent credential in ${data} yet: the first start needs ${missing.join(", ")} (later starts need only --data ${flags.data})`,
    );
  }
  for (const url of splitAddresses(merged.url!)) {
    if (!/^https?:\/\//.test(url)) throw new Error(`--url must be http:// or https:// addresses of the Berth service (several: comma-separated), got ${JSON.stringify(url)}`);
  }
  if (!isValidName(merged.name!)) throw new Error(`--name ${JSON.stringify(merged.name)} is not a valid member name: use 1-63 letters, digits, ".", "_" or "-"`);
  const credential: Credential = { url: merged.url!, name: merged.name!, credential: merged.credential! };
  if (merged.fingerprint) credential.fingerprint = merged.fingerprint;
  if (JSON.stringify(credential) !== JSON.stringify(stored)) await writeJsonAtomic(file, credential, 0o600);
  else await chmod(file, 0o600);
  return credential;
}

async function loadSettings(data: string, flags: AgentFlags): Promise<AgentSettings> {
  const file = settingsPath(data);
  const stored = await readJson<Partial<AgentSettings>>(file);
  const driver = flags.driver ?? stored?.driver ?? "none";
  if (!DRIVER_NAMES.includes(driver as DriverName)) throw new Error(`--driver must be one of ${DRIVER_NAMES.join(", ")}, got ${JSON.stringify(driver)}`);
  const settings: AgentSettings = { driver: driver as DriverName, pools: stored?.pools ?? { default: data } };
  if (flags.pool && flags.pool.length > 0) settings.pools = parsePools(flags.pool);
  const hooks = flags.hooks ? resolve(flags.hooks) : stored?.hooks;
  if (hooks) settings.hooks = hooks;
  const lxdSocket = flags.lxdSocket ? resolve(flags.lxdSocket) : stored?.lxdSocket;
  if (lxdSocket) settings.lxdSocket = lxdSocket;
  if (settings.driver === "hook" && !settings.hooks) throw new Error("--driver hook needs --hooks DIR: a directory with executables start, stop and status");
  if (JSON.stringify(settings) !== JSON.stringify(stored)) await writeJsonAtomic(file, settings);
  return settings;
}

/** ["default=/srv", "fast=/nvme"] → {default: "/srv", fast: "/nvme"}. */
export function parsePools(specs: string[]): Record<string, string> {
  const pools: Record<string, string> = {};
  for (const spec of specs) {
    const at = spec.indexOf("=");
    const name = at > 0 ? spec.slice(0, at) : "";
    const path = at > 0 ? spec.slice(at + 1) : "";
    if (!isValidName(name) || !path) throw new Error(`--pool must be NAME=PATH (a storage pool and a directory on its filesystem), got ${JSON.stringify(spec)}`);
    pools[name] = resolve(path);
  }
  return pools;
}
