/**
 * The lxd driver: the host's own LXD daemon, through its unix socket, runs the instances as real
 * containers (docs/lxd.md).
 *
 * - An instance is created on LXD from the `source` it was created with in Berth ({"type": "image",
 *   "alias": ...} or "fingerprint"), with its config (less Berth's own keys), devices and
 *   profiles, the first time it is started; stopped cleanly within boot.host_shutdown_timeout,
 *   then by force; deleted when it is no longer listed on this member.
 * - Ownership: every container the driver creates carries `user.berth.member`, `user.berth.project`
 *   and `user.berth.name`. A container without them (or of another member) is never started,
 *   stopped or deleted: the instance shows Error saying so.
 * - Observed status is LXD's own. A container Berth started that LXD shows Stopped (its init
 *   exited, someone ran `lxc stop`) is Error, as a crash is with the process driver.
 */
import { mkdir } from "node:fs/promises";
import { toError } from "../../domain/errors.ts";
import type { GpuCard, MemberResources } from "../../domain/types.ts";
import { agentScriptCommand } from "../agentScript.ts";
import { instanceDir, readJson, writeJsonAtomic } from "../files.ts";
import type { DesiredInstance, MigrationOffer } from "../protocol.ts";
import type { Driver, DriverContext, Observation } from "./driver.ts";
import { mergeChange, sameDefinition, type LxdDefinition } from "./lxdChange.ts";
import { LxdError, type LxdClient } from "./lxdClient.ts";
import { ensureFenceWatcher } from "./lxdFenceWatcherProcess.ts";
import { fenceWatcherLogPath, lxdInstancePath, NAME_KEY, orderedPath, ownedBy, OWNER_KEY, PROJECT_KEY, type LxdInstance, type Ordered } from "./lxdShared.ts";

/**
 * The instance config LXD is given: Berth's own keys (volatile.*, berth.*, exec.*,
 * boot.autorestart, which LXD 5.0 does not know) are left out; a fractional limits.cpu (Berth
 * counts cores, 0.5) becomes LXD's limits.cpu.allowance (50ms/100ms); the ownership keys are added.
 */
export function lxdConfig(instance: DesiredInstance, member: string): Record<string, string> {
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(instance.config)) {
    if (key.startsWith("volatile.") || key.startsWith("berth.") || key.startsWith("exec.") || key === "boot.autorestart") continue;
    if (key === "limits.cpu" && !/^\d+$/.test(value) && Number.isFinite(Number(value))) {
      config["limits.cpu.allowance"] = `${Math.max(1, Math.round(Number(value) * 100))}ms/100ms`;
      continue;
    }
    config[key] = value;
  }
  config[OWNER_KEY] = member;
  config[PROJECT_KEY] = instance.project;
  config[NAME_KEY] = instance.name;
  return config;
}

export class LxdDriver implements Driver {
  readonly name = "lxd";
  readonly observeIntervalMs = 2_000;

  private watcher: number | null = null;

  constructor(
    private readonly ctx: DriverContext,
    private readonly lxd: LxdClient,
    /** How to run the fence watcher (agentScript.ts). */
    private readonly watcherCommand: string[] = agentScriptCommand("lxdFenceWatcher"),
  ) {}

  /** Starts the fence watcher (docs/lxd.md), or adopts the one that runs. */
  async ensureFencing(): Promise<void> {
    const { pid, started } = await ensureFenceWatcher(this.watcherCommand, this.ctx.data, this.lxd.socketPath, this.ctx.member);
    if (pid !== this.watcher) this.ctx.logger.info({ pid, log: fenceWatcherLogPath(this.ctx.data) }, started ? "started the lxd fence watcher" : "adopted the running lxd fence watcher");
    this.watcher = pid;
  }

  private async order(i: { project: string; name: string }, ordered: Ordered): Promise<void> {
    await mkdir(instanceDir(this.ctx.data, i), { recursive: true });
    await writeJsonAtomic(orderedPath(this.ctx.data, i), ordered);
  }

  /** The LXD instance, or null when there is none of that name. */
  private async find(i: { project: string; name: string }): Promise<LxdInstance | null> {
    try {
      return await this.lxd.get<LxdInstance>(lxdInstancePath(i));
    } catch (err) {
      if (err instanceof LxdError && err.status === 404) return null;
      throw err;
    }
  }

  /** Why the driver must not touch this LXD instance, or null when this member owns it. */
  private notOurs(i: { project: string; name: string }, found: LxdInstance): string | null {
    const owner = found.config[OWNER_KEY];
    if (owner === this.ctx.member) return null;
    return owner === undefined
      ? `LXD already has an instance "${i.name}" in project "${i.project}" that Berth does not own (no ${OWNER_KEY} key); Berth leaves it alone: rename or delete it`
      : `LXD's instance "${i.name}" in project "${i.project}" belongs to cluster member "${owner}" (${OWNER_KEY}), not "${this.ctx.member}"; Berth leaves it alone`;
  }

  async start(instance: DesiredInstance): Promise<void> {
    let found = await this.find(instance);
    if (found) {
      const refused = this.notOurs(instance, found);
      if (refused) throw new Error(refused);
    } else {
      await this.create(instance);
      found = await this.find(instance);
    }
    if (found?.status === "Running") return;
    await this.lxd.run("PUT", lxdInstancePath(instance, "/state"), { action: "start", timeout: -1 }, 300);
    await this.order(instance, { ordered: "Running", startedAt: Date.now() });
  }

  private async create(instance: DesiredInstance): Promise<void> {
    const source = instance.source;
    if (!source || (source.type !== "image" && source.type !== undefined) || (!source.alias && !source.fingerprint && !source.properties)) {
      throw new Error(
        `Instance "${instance.name}" has no image to create it from on LXD: create it in Berth with a source, e.g. {"source": {"type": "image", "alias": "NAME"}} (lxc launch IMAGE)`,
      );
    }
    this.ctx.logger.info({ instance: `${instance.project}/${instance.name}`, source }, "creating the LXD instance from its image");
    await this.lxd.run("POST", `/1.0/instances?project=${encodeURIComponent(instance.project)}`, {
      name: instance.name,
      type: instance.type === "virtual-machine" ? "virtual-machine" : "container",
      description: instance.description,
      config: lxdConfig(instance, this.ctx.member),
      devices: instance.devices,
      profiles: instance.profiles,
      source: { ...source, type: "image" },
    }, 600);
  }

  /**
   * Applies a change Berth made to the instance to its container, if there is one and it is this
   * member's (lxdChange.ts: keys and devices Berth dropped are dropped, LXD's own and those set by
   * hand stay). Running or not: LXD applies what it can live, the rest at the next start.
   */
  async update(instance: DesiredInstance, previous: DesiredInstance): Promise<boolean> {
    const next = this.definition(instance);
    const before = this.definition(previous);
    if (sameDefinition(next, before)) return false; // a change LXD does not see (power state, Berth's own keys)
    const found = await this.find(instance);
    if (!found || this.notOurs(instance, found)) return false;
    const merged = mergeChange(found, before, next);
    if (sameDefinition(merged, found)) return false;
    this.ctx.logger.info({ instance: `${instance.project}/${instance.name}` }, "applying Berth's change of the instance to its LXD container");
    await this.lxd.run("PUT", lxdInstancePath(instance), { architecture: found.architecture, ephemeral: found.ephemeral, stateful: found.stateful, ...merged }, 120);
    return true;
  }

  /** What Berth defines of the container (lxdConfig: less Berth's own keys, with the ownership keys). */
  private definition(instance: DesiredInstance): LxdDefinition {
    return { config: lxdConfig(instance, this.ctx.member), devices: instance.devices, profiles: instance.profiles, description: instance.description };
  }

  async stop(instance: DesiredInstance, timeoutS: number): Promise<void> {
    const found = await this.find(instance);
    if (!found) return;
    if (this.notOurs(instance, found)) return; // never stop what is not Berth's
    await this.order(instance, { ordered: "Stopped" });
    if (found.status === "Stopped") return;
    if (timeoutS > 0) {
      try {
        await this.lxd.run("PUT", lxdInstancePath(instance, "/state"), { action: "stop", timeout: Math.ceil(timeoutS) }, Math.ceil(timeoutS) + 60);
        return;
      } catch (err) {
        this.ctx.logger.warn({ instance: `${instance.project}/${instance.name}`, err: toError(err).message }, `no clean stop within ${timeoutS} s; forcing it`);
      }
    }
    const now = await this.find(instance);
    if (now && now.status !== "Stopped") await this.lxd.run("PUT", lxdInstancePath(instance, "/state"), { action: "stop", force: true }, 120);
  }

  async status(instance: DesiredInstance): Promise<Observation> {
    const found = await this.find(instance);
    if (!found) return { status: "Stopped" };
    const refused = this.notOurs(instance, found);
    if (refused) return { status: "Error", reason: refused };
    const ordered = await readJson<Ordered>(orderedPath(this.ctx.data, instance));
    switch (found.status) {
      case "Running":
        return { status: "Running", startedAt: ordered?.startedAt };
      case "Stopped":
        if (ordered?.ordered === "Running") {
          return { status: "Error", reason: "the container stopped without Berth asking (LXD shows it Stopped)", startedAt: ordered.startedAt };
        }
        return { status: "Stopped" };
      default:
        return { status: "Error", reason: `LXD shows it ${found.status}` };
    }
  }

  /** The container's console log (LXD keeps it), its last 64 KiB. */
  async log(instance: { project: string; name: string }): Promise<string> {
    const { status, envelope } = await this.lxd.raw("GET", lxdInstancePath(instance, "/console")).catch(() => ({ status: 0, envelope: null }));
    if (status !== 200 || !envelope) return "";
    return typeof envelope.metadata === "string" ? envelope.metadata.slice(-64 * 1024) : "";
  }

  /** Deletes the container (stopped by force first), if this member owns it. */
  async remove(instance: DesiredInstance): Promise<void> {
    const found = await this.find(instance);
    if (!found || this.notOurs(instance, found)) return;
    if (found.status !== "Stopped") await this.lxd.run("PUT", lxdInstancePath(instance, "/state"), { action: "stop", force: true }, 120);
    try {
      await this.lxd.run("DELETE", lxdInstancePath(instance), undefined, 300);
    } catch (err) {
      if (!(err instanceof LxdError && err.status === 404)) throw err;
    }
  }

  /** Every LXD instance (in every project) that carries this member's ownership key. */
  async owned(): Promise<DesiredInstance[]> {
    const all = await this.lxd.get<LxdInstance[]>("/1.0/instances?recursion=1&all-projects=true");
    return all.flatMap((i) => {
      const owned = ownedBy(i, this.ctx.member);
      if (!owned) return [];
      return [{ ...owned, type: "container", config: {}, devices: {}, profiles: i.profiles, description: i.description, desired: i.status === "Running" ? "Running" : "Stopped" }];
    });
  }

  async resources(): Promise<Partial<MemberResources>> {
    const r = await this.lxd.get<{
      cpu: { architecture: string; total: number };
      memory: { used: number; total: number };
      gpu?: { total: number; cards: { vendor?: string; product?: string; driver?: string }[] | null };
    }>("/1.0/resources");
    const pools = await this.lxd.get<{ name: string; driver: string }[]>("/1.0/storage-pools?recursion=1");
    const storage: MemberResources["storage"] = { pools: {} };
    for (const pool of pools) {
      const space = await this.lxd.get<{ space: { used: number; total: number } }>(`/1.0/storage-pools/${encodeURIComponent(pool.name)}/resources`).catch(() => null);
      storage.pools[pool.name] = { total: space?.space.total ?? 0, used: space?.space.used ?? 0, driver: pool.driver };
    }
    const cards: GpuCard[] = (r.gpu?.cards ?? []).map((c) => ({ vendor: c.vendor ?? "", model: c.product ?? "", memory: 0 }));
    return {
      cpu: { architecture: r.cpu.architecture, total: r.cpu.total },
      memory: { total: r.memory.total, used: r.memory.used },
      storage,
      gpu: { total: cards.length, cards },
    };
  }

  /**
   * Prepares a pull migration of a stopped container (LXD's POST /1.0/instances/NAME
   * {"migration": true}) and says where the target's LXD pulls it from: this LXD's network
   * address (core.https_address), its certificate and the operation's secrets.
   */
  async migrateOut(i: { project: string; name: string }): Promise<MigrationOffer> {
    const found = await this.find(i);
    if (!found) throw new Error(`LXD on cluster member "${this.ctx.member}" has no instance "${i.name}" in project "${i.project}" to migrate`);
    const refused = this.notOurs(i, found);
    if (refused) throw new Error(refused);
    if (found.status !== "Stopped") throw new Error(`Instance "${i.name}" is ${found.status} on LXD: it is stopped before it migrates (there is no live migration here)`);
    const server = await this.lxd.get<{ config: Record<string, string>; environment: { addresses: string[]; certificate: string } }>("/1.0");
    const address = server.environment.addresses?.[0];
    if (!server.config["core.https_address"] || !address) {
      throw new Error(
        `LXD on cluster member "${this.ctx.member}" does not listen on the network (core.https_address is unset), so the target's LXD cannot pull "${i.name}" from it: ` +
          "run `lxc config set core.https_address ADDRESS:8443` there",
      );
    }
    const op = (await this.lxd.send("POST", lxdInstancePath(i), { migration: true })) as { operation: string; metadata: Record<string, string> };
    return { operation: `https://${address}${op.operation}`, certificate: server.environment.certificate, secrets: op.metadata, architecture: found.architecture };
  }

  /** Creates the instance here by pulling it from the source LXD (pull mode): the root filesystem travels daemon to daemon. */
  async migrateIn(instance: DesiredInstance, offer: MigrationOffer): Promise<void> {
    const found = await this.find(instance);
    if (found) {
      const refused = this.notOurs(instance, found);
      if (refused) throw new Error(refused);
      return; // pulled already (a resumed move)
    }
    await this.lxd.run("POST", `/1.0/instances?project=${encodeURIComponent(instance.project)}`, {
      name: instance.name,
      type: instance.type === "virtual-machine" ? "virtual-machine" : "container",
      architecture: offer.architecture,
      description: instance.description,
      config: lxdConfig(instance, this.ctx.member),
      devices: instance.devices,
      profiles: instance.profiles,
      source: { type: "migration", mode: "pull", operation: offer.operation, certificate: offer.certificate, secrets: offer.secrets },
    }, 3600);
    await this.order(instance, { ordered: "Stopped" });
  }
}
