/** The composition root: the one place that knows every concrete module and wires them together. */
import { mkdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import pino, { type Logger } from "pino";
import { createApp } from "./api/app.ts";
import type { Services } from "./api/services.ts";
import { ClusterChanges } from "./cluster/changes.ts";
import { ConfigService } from "./cluster/configService.ts";
import { GroupService } from "./cluster/groupService.ts";
import { InstanceService } from "./cluster/instanceService.ts";
import { MemberService } from "./cluster/memberService.ts";
import { PoolService } from "./cluster/poolService.ts";
import { ProjectService } from "./cluster/projectService.ts";
import { TokenService } from "./cluster/tokenService.ts";
import { EventBus } from "./events/bus.ts";
import { StoreExecutor } from "./members/executor.ts";
import { LivenessMonitor } from "./members/livenessMonitor.ts";
import { LocalProbe } from "./members/localMember.ts";
import { OperationManager } from "./operations/manager.ts";
import { registerInstanceOperations } from "./cluster/instanceOperations.ts";
import { Store } from "./store/store.ts";
import { SchedulerIndex } from "./placement/schedulerIndex.ts";
import { SchedulerPlacement } from "./placement/schedulerPlacement.ts";
import { Relocation } from "./placement/relocation.ts";
import { schedulerRoutes } from "./api/routes/scheduler.ts";
import { placementQuery } from "./placement/query.ts";
import { Scriptlets } from "./placement/scriptlets.ts";
import { Maintenance } from "./members/maintenance.ts";
import { memberStateRoutes } from "./api/routes/members.ts";

export const VERSION = "0.1.0";

export interface BerthOptions {
  dataDir: string;
  /** Run the embedded local member (default true). */
  localMember?: boolean;
  localMemberName?: string;
  adminToken?: string;
  now?: () => number;
  logger?: Logger;
  /** Every executor action takes this long (simulated members); default BERTH_EXECUTOR_DELAY_MS or 0. */
  executorDelayMs?: number;
  /** Scriptlet workers (default: sized to the machine). */
  sandboxPoolSize?: number;
  /** Liveness sweep interval; 0 disables the timer (tests call tick()). */
  livenessIntervalMs?: number;
}

export interface Berth {
  services: Services;
  app: ReturnType<typeof createApp>;
  liveness: LivenessMonitor;
  maintenance: Maintenance;
  /** The admin secret when this start generated one. */
  generatedAdminToken?: string;
  localMemberName: string | null;
  /** Heartbeats the local member now (also runs on a timer). */
  heartbeatLocal(): Promise<void>;
  close(): Promise<void>;
}

export async function createBerth(opts: BerthOptions): Promise<Berth> {
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const now = opts.now ?? Date.now;
  const logger = opts.logger ?? pino({ level: process.env.BERTH_LOG_LEVEL ?? "info" }, pino.destination(2));
  // Probing this machine for the local member mostly waits on child processes (a few hundred ms):
  // start it now so that it overlaps opening the store and building the services; the first
  // heartbeat below uses this reading.
  const probe = new LocalProbe(dataDir);
  let firstReading = opts.localMember !== false ? probe.read() : null;
  firstReading?.catch(() => {}); // awaited below: an early failure is not unhandled
  const store = new Store(join(dataDir, "berth.db"));
  const bus = new EventBus(now);
  const changes = new ClusterChanges();
  const config = new ConfigService(store, bus);
  const members = new MemberService(store, config, bus, changes, now);
  const groups = new GroupService(store, members, bus, changes);
  const pools = new PoolService(store, bus);
  const projects = new ProjectService(store, bus, changes);
  const instances = new InstanceService(store, bus, changes, now);
  const tokens = new TokenService(store, bus, (name) => members.exists(name), now);
  const operations = new OperationManager(store, bus, now, (err, id) => logger.error({ err, operation: id }, "operation failed"));
  instances.executor = new StoreExecutor(instances, opts.executorDelayMs ?? Number(process.env.BERTH_EXECUTOR_DELAY_MS ?? 0));
  groups.ensureDefault();
  projects.ensureDefault();
  // Stored instances load in the background once start-up is done (placements wait for them).
  const index = new SchedulerIndex(changes, () => members.list(), (after, limit) => store.listInstanceResources(after, limit));
  index.ready.catch((err) => logger.error({ err }, "loading the stored instances into the scheduler failed; placements fail until a restart"));
  const placement = new SchedulerPlacement({ index, config, members, groups, projects, pools });
  instances.placement = placement;
  instances.projectExists = (name) => projects.exists(name);

  const generatedAdminToken = tokens.bootstrapAdmin(opts.adminToken);
  if (generatedAdminToken) {
    writeFileSync(join(dataDir, "admin.token"), `${generatedAdminToken}\n`, { mode: 0o600 });
    logger.info({ file: join(dataDir, "admin.token") }, "created the admin token");
  }

  const services: Services = { store, bus, config, members, groups, pools, projects, instances, tokens, operations, logger, now };
  registerInstanceOperations(operations, instances);
  const maintenance = new Maintenance({ members, instances, pools, config, bus }, operations);
  const relocation = new Relocation(instances, operations);
  const scriptlets = new Scriptlets({
    members, instances, projects, changes, bus, logger, poolSize: opts.sandboxPoolSize,
    limits: () => ({ timeoutMs: config.get()["scriptlet.timeout_ms"], memoryMb: config.get()["scriptlet.memory_mb"] }),
  });
  placement.hooks = scriptlets;
  config.addGuard(async (next, previous, changed) => {
    const limitsOf = (c: typeof next) => ({ timeoutMs: c["scriptlet.timeout_ms"], memoryMb: c["scriptlet.memory_mb"] });
    if (changed.includes("scriptlet.timeout_ms") || changed.includes("scriptlet.memory_mb")) scriptlets.setLimits(limitsOf(next));
    if (!changed.includes("instances.placement.scriptlet")) return;
    try {
      await scriptlets.install(next["instances.placement.scriptlet"]);
    } catch (err) {
      scriptlets.setLimits(limitsOf(previous)); // the whole change is refused: limits go back too
      throw err;
    }
  });
  const storedScriptlet = config.get()["instances.placement.scriptlet"];
  if (storedScriptlet) {
    await scriptlets.install(storedScriptlet).catch((err) => logger.error({ err }, "the stored placement scriptlet failed to load; built-in placement is used"));
  }
  const query = placementQuery(placement, scriptlets);
  const app = createApp(services, { version: VERSION, serverName: opts.localMemberName ?? hostname() }, [
    memberStateRoutes(maintenance), schedulerRoutes(query, relocation),
  ]);
  const liveness = new LivenessMonitor(members, changes, bus);

  // The embedded local member.
  let localMemberName: string | null = null;
  let heartbeatTimer: NodeJS.Timeout | null = null;
  const heartbeatLocal = async () => {
    if (!localMemberName) return;
    const reading = firstReading ?? probe.read();
    firstReading = null;
    const { resources, state } = await reading;
    members.heartbeat(localMemberName, resources, state);
  };
  if (opts.localMember !== false) {
    localMemberName = opts.localMemberName ?? hostname();
    if (!members.exists(localMemberName)) {
      members.create({ server_name: localMemberName, architecture: await probe.architecture(), roles: ["local"], description: "Embedded local member" });
    }
    await heartbeatLocal();
    const schedule = () => {
      const every = (config.get()["cluster.offline_threshold"] * 1000) / 2;
      heartbeatTimer = setTimeout(() => {
        heartbeatLocal().catch((err) => logger.warn({ err }, "local member heartbeat failed")).finally(schedule);
      }, every);
      heartbeatTimer.unref();
    };
    schedule();
  }

  // start() sweeps at once and then on its timer; without a timer (tests) sweep once here.
  const livenessIntervalMs = opts.livenessIntervalMs ?? 1000;
  if (livenessIntervalMs > 0) liveness.start(livenessIntervalMs);
  else liveness.tick();
  // Only now, so that loading does not compete with the start-up work above (the local member's probe).
  index.start();
  const resumed = operations.resumeInterrupted();
  if (resumed > 0) logger.info({ resumed }, "resumed interrupted operations");

  return {
    services,
    app,
    liveness,
    maintenance,
    generatedAdminToken,
    localMemberName,
    heartbeatLocal,
    async close() {
      if (heartbeatTimer) clearTimeout(heartbeatTimer);
      liveness.stop();
      await operations.settle();
      index.stop();
      await scriptlets.close();
      store.close();
    },
  };
}
