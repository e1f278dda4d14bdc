/** The composition root: the one place that knows every concrete module and wires them together. */
import { mkdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import pino, { type Logger } from "pino";
import { createApp } from "./api/app.ts";
import { heartbeatFastPath, type FastPath } from "./api/heartbeatFastPath.ts";
import { createMetrics } from "./api/metrics.ts";
import { memberStateRoutes } from "./api/routes/members.ts";
import { schedulerRoutes } from "./api/routes/scheduler.ts";
import type { Services } from "./api/services.ts";
import { ClusterChanges } from "./cluster/changes.ts";
import { ConfigService } from "./cluster/configService.ts";
import { GroupCache } from "./cluster/groupCache.ts";
import { GroupService } from "./cluster/groupService.ts";
import { registerInstanceOperations } from "./cluster/instanceOperations.ts";
import { InstanceLocks } from "./cluster/instanceLocks.ts";
import { InstanceRecords } from "./cluster/instanceRecords.ts";
import { InstanceService } from "./cluster/instanceService.ts";
import { JoinService } from "./cluster/joinService.ts";
import { MemberService } from "./cluster/memberService.ts";
import { PoolService } from "./cluster/poolService.ts";
import { ProjectService } from "./cluster/projectService.ts";
import { TokenService } from "./cluster/tokenService.ts";
import { TrustService } from "./cluster/trustService.ts";
import { NO_ENDPOINTS, type ServiceEndpoints } from "./domain/endpoints.ts";
import type { InstanceExecutor, InstanceRecorder } from "./domain/executor.ts";
import { EventBus } from "./events/bus.ts";
import { AgentExecutor } from "./members/agentExecutor.ts";
import { AgentRegistry } from "./members/agents.ts";
import { HealingMonitor } from "./members/healing.ts";
import { DesiredState } from "./members/desiredState.ts";
import { chooseHealAction } from "./members/evacuationRules.ts";
import { StoreExecutor } from "./members/executor.ts";
import { LivenessMonitor } from "./members/livenessMonitor.ts";
import { LocalProbe } from "./members/localMember.ts";
import { Maintenance } from "./members/maintenance.ts";
import { MoveProcedure } from "./members/moveProcedure.ts";
import { certificateFromPem, generateSelfSigned, loadOrCreateCertificate, type ServerCertificate } from "./net/certificate.ts";
import { OperationManager } from "./operations/manager.ts";
import { moveConfirmation } from "./placement/confirmFit.ts";
import { placementQuery } from "./placement/query.ts";
import { storedChanges } from "./placement/resync.ts";
import { Relocation } from "./members/relocation.ts";
import { SchedulerIndex } from "./placement/schedulerIndex.ts";
import { SchedulerPlacement } from "./placement/schedulerPlacement.ts";
import { Scriptlets } from "./placement/scriptlets.ts";
import { ClusterView } from "./scheduler/index.ts";
import { RELOADED, Replicas, standalone, type Reloaded, type ReplicaStatus } from "./cluster/replicas.ts";
import { PgStore } from "./store/pg/pgStore.ts";
import { SqliteStore } from "./store/sqliteStore.ts";
import type { ReplicaChannel, Store } from "./store/store.ts";
import { VERSION } from "./domain/version.ts";

export { VERSION };

export interface BerthOptions {
  dataDir: string;
  /**
   * --store / BERTH_STORE: postgres://user@host/db for a PostgreSQL store that several replicas
   * share; absent: the embedded SQLite store in the data directory.
   */
  store?: string;
  /** This replica's name among several (default: hostname-pid). */
  replicaName?: string;
  /** Run the embedded local member (default true on SQLite, false on PostgreSQL). */
  localMember?: boolean;
  /**
   * Confirm each placement and move against what is stored on the member, in the write's
   * transaction (default: only on a shared database; one process's own view is the whole truth).
   */
  confirmStored?: boolean;
  localMemberName?: string;
  adminToken?: string;
  now?: () => number;
  logger?: Logger;
  /** Every executor action takes this long (simulated members); default BERTH_EXECUTOR_DELAY_MS or 0. */
  executorDelayMs?: number;
  /** Builds the executor from the store-backed one and the recorder (tests wrap it to gate or fail actions). */
  executor?: (storeExecutor: InstanceExecutor, recorder: InstanceRecorder) => InstanceExecutor;
  /** Scriptlet workers (default: sized to the machine). */
  sandboxPoolSize?: number;
  /** Liveness sweep interval; 0 disables the timer (tests call tick()). */
  livenessIntervalMs?: number;
  /** The built dashboard served at /ui/ (default: ui/dist of this package, built by npm run build:ui). */
  uiDir?: string;
  /** --tls-cert / --tls-key: serve these files instead of <data>/server.crt and server.key (generated on first start). */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** Where the service is reached, for GET /1.0 and join tokens; startServer fills it in once listening (default: nowhere). */
  endpoints?: () => ServiceEndpoints;
}

/** ui/dist beside src/ (running from source) or dist/ (compiled): both are one level below the package. */
const DEFAULT_UI_DIR = fileURLToPath(new URL("../ui/dist", import.meta.url));

export interface Berth {
  services: Services;
  /** The feed of committed changes the scheduler and sandbox follow. */
  changes: ClusterChanges;
  app: ReturnType<typeof createApp>;
  /** Heartbeats taken off node:http before hono (the listening servers put it in front of app.fetch). */
  fastPath: FastPath;
  liveness: LivenessMonitor;
  healing: HealingMonitor;
  maintenance: Maintenance;
  /** The admin secret when this start generated one. */
  generatedAdminToken?: string;
  localMemberName: string | null;
  /** The TLS certificate the service presents (and its fingerprint, which clients pin). */
  certificate: ServerCertificate;
  /** This replica among the others on its database (standalone on SQLite). */
  replicas: ReplicaStatus;
  /** The listeners are bound (BerthOptions.endpoints now answers): other replicas learn this one's addresses at once. */
  listening(): Promise<void>;
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
  const { store, channel } = await openStore(opts.store, dataDir);
  // On a shared database the embedded local member is off unless asked for (--local-member).
  const runLocalMember = opts.localMember ?? channel === null;
  const probe = new LocalProbe(dataDir);
  let firstReading = runLocalMember ? probe.read() : null;
  firstReading?.catch(() => {}); // awaited below: an early failure is not unhandled
  const certificate = await serviceCertificate(opts, dataDir, channel);
  if (certificate.generated) logger.info({ file: certificate.certFile, fingerprint: certificate.fingerprint }, "created the TLS certificate");
  const ownEndpoints = opts.endpoints ?? (() => NO_ENDPOINTS);
  const replicaName = opts.replicaName ?? `${hostname()}-${process.pid}`;
  // Join tokens carry every replica's URLs (this one's first), so an agent can join through any.
  let replicas: Replicas | null = null;
  const endpoints = () => {
    const own = ownEndpoints();
    return replicas ? { urls: [...new Set([...own.urls, ...replicas.allUrls()])], addresses: own.addresses } : own;
  };
  const bus = new EventBus(now, (err, event) => logger.error({ err, event: event.type }, "an event subscriber failed and was dropped"));
  const changes = new ClusterChanges((err, change) => logger.error({ err, change: change.kind }, "a listener of a committed change failed"));
  const config = new ConfigService(store, bus);
  const view = new ClusterView();
  const groupCache = new GroupCache(store);
  const agents = new AgentRegistry(bus, now);
  // Built below (it starts heals through the maintenance service); the member view asks it whether healing is held back.
  let healing: HealingMonitor;
  const members = new MemberService(
    store, groupCache, config, bus, changes, now, (member) => view.pendingCount(member), (member) => agents.view(member),
    () => healing?.heldBack() ?? null, channel === null, // alone on its store: member rows are only this service's to change
    (err) => logger.warn({ err }, "writing heartbeats failed; they are tried again with the next batch"),
  );
  const groups = new GroupService(store, groupCache, members, bus, changes);
  const pools = new PoolService(store, bus);
  const projects = new ProjectService(store, groupCache, bus, changes);
  const tokens = new TokenService(store, bus, (name) => members.exists(name), now, changes);
  const operations = new OperationManager(
    store, bus, now, (err, id) => logger.error({ err, operation: id }, "operation failed"),
    () => config.get()["operations.retention"] * 1000, channel ? replicaName : (opts.localMemberName ?? hostname()),
    channel && { claim: (id) => channel.claimOperation(id), release: (id) => channel.releaseOperation(id) },
  );
  // The small tables the services keep in memory (config, groups, pools, projects).
  await config.load();
  await groups.ensureDefault();
  await pools.load();
  await projects.ensureDefault();

  // A move's new location is confirmed against what is stored on the target, in the write's transaction.
  const confirmStored = opts.confirmStored ?? channel !== null;
  const records = new InstanceRecords(store, bus, changes, confirmStored ? moveConfirmation(() => config.get(), (record) => members.latest(record)) : null);
  const locks = new InstanceLocks();
  const storeExecutor = new StoreExecutor(records, opts.executorDelayMs ?? Number(process.env.BERTH_EXECUTOR_DELAY_MS ?? 0));
  // On a member with an agent a step completes when the agent reports it done (agentExecutor.ts).
  const desired = new DesiredState(records, changes, (instance) => chooseHealAction(instance, (pool) => pools.find(pool)?.driver).action === "heal");
  const memberExecutor = new AgentExecutor(storeExecutor, agents, () => config.get()["cluster.agent_step_timeout"] * 1000, desired, (pool) => pools.driverOf(pool));
  const executor = opts.executor ? opts.executor(memberExecutor, records) : memberExecutor;
  changes.subscribe((change) => { if (change.kind === "member-removed") agents.forget(change.name); });
  const scriptlets = new Scriptlets({ config, members, instances: records, projects, changes, bus, logger, poolSize: opts.sandboxPoolSize });
  // Stored instances load in the background once start-up is done (placements wait for them).
  const index = new SchedulerIndex(view, changes, () => members.list(), (after, limit) => store.listInstanceResources(after, limit));
  index.ready.catch((err) => logger.error({ err }, "loading the stored instances into the scheduler failed; placements fail until a restart"));
  const placement = new SchedulerPlacement({
    index, config, members, groups, projects, pools, hooks: scriptlets,
    onRefused: (instance, reason, err) => logger.warn({ instance: instance.name, project: instance.project, reason, error: err.message }, "placement refused"),
  });
  const memberLifecycle = async (name: string) => (await members.find(name))?.state;
  const instances = new InstanceService({
    store, bus, changes, now, records, locks, placement, executor, memberLifecycle,
    projectExists: (name) => projects.exists(name), findPool: (name) => pools.find(name), sharedStore: confirmStored,
  });
  const moves = new MoveProcedure({
    records, locks, executor, memberLifecycle, reserveAt: (instance, member, confine) => placement.reserveAt(instance, member, confine),
  });

  const replicaStatus: ReplicaStatus = {
    self: replicaName,
    role: () => replicas?.role() ?? "standalone",
    list: () => replicas?.list() ?? standalone(replicaName, () => ownEndpoints().urls).list(),
    leaseChanges: () => replicas?.leaseChanges() ?? 0,
    epoch: () => replicas?.epoch() ?? 0,
    resyncs: () => replicas?.resyncs() ?? 0,
  };
  const generatedAdminToken = await tokens.bootstrapAdmin(opts.adminToken);
  if (generatedAdminToken) {
    writeFileSync(join(dataDir, "admin.token"), `${generatedAdminToken}\n`, { mode: 0o600 });
    logger.info({ file: join(dataDir, "admin.token") }, "created the admin token");
  }

  const joins = new JoinService(store, tokens, bus, now, certificate.fingerprint, endpoints);
  const trust = new TrustService(store, bus, now, certificate.fingerprint, endpoints);
  const services: Services = {
    store, bus, config, members, groups, pools, projects, instances, records, tokens, join: joins, trust, operations, agents, desired,
    replicas: replicaStatus,
    healing: { acknowledge: (member, inForce) => healing.acknowledge(member, inForce), stats: () => healing.stats }, logger, now,
  };
  registerInstanceOperations(operations, instances);
  const maintenance = new Maintenance({ members, records, locks, placement, executor, moves, pools, config, bus }, operations);
  const relocation = new Relocation(records, placement, moves, operations, (member) => groupCache.ofMember(member));
  await scriptlets.loadStored();
  const query = placementQuery(placement, scriptlets);
  const metrics = createMetrics(services);
  const app = createApp(services, {
    version: VERSION, serverName: opts.localMemberName ?? hostname(), uiDir: opts.uiDir ?? DEFAULT_UI_DIR,
    certificate: { pem: certificate.cert, fingerprint: certificate.fingerprint }, endpoints,
  }, [
    memberStateRoutes(maintenance), schedulerRoutes(query, relocation),
  ], metrics);
  const liveness = new LivenessMonitor(members, changes, bus, (err) => logger.warn({ err }, "the liveness sweep failed"));
  logWhatFails(bus, logger);
  healing = new HealingMonitor({
    members, config, bus, operations, now,
    heal: async (member) => {
      const answer = await maintenance.request(member, { action: "evacuate", mode: "heal" });
      if (answer.dryRun) throw new Error("a heal is never a dry run");
      logger.warn({ member, operation: answer.operation.id }, "healing an offline member");
      return answer.operation.id;
    },
    onError: (err) => logger.warn({ err }, "the healing sweep failed"),
  });

  // The embedded local member.
  let localMemberName: string | null = null;
  let heartbeatTimer: NodeJS.Timeout | null = null;
  const heartbeatLocal = async () => {
    if (!localMemberName) return;
    const reading = firstReading ?? probe.read();
    firstReading = null;
    const { resources, state } = await reading;
    await members.heartbeat(localMemberName, resources, state);
  };
  if (runLocalMember) {
    localMemberName = opts.localMemberName ?? hostname();
    if (!(await members.exists(localMemberName))) {
      await members.create({ server_name: localMemberName, architecture: await probe.architecture(), roles: ["local"], description: "Embedded local member" });
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

  // start() sweeps at once and then on its timer; without a timer (tests) sweep once here. With
  // several replicas only the leader sweeps, heals and resumes the operations of a replica that
  // died (Replicas takes and watches the leadership). It starts them as the leader of the epoch it
  // took (store.ts asLeader): the timers started here carry that epoch, so every pass's writes (a
  // heal's operation, the feed rows of the sweep's status changes) are refused once another
  // replica leads.
  const livenessIntervalMs = opts.livenessIntervalMs ?? 1000;
  const lead = () => {
    if (livenessIntervalMs <= 0) return;
    liveness.start(livenessIntervalMs);
    healing.start(livenessIntervalMs);
  };
  if (livenessIntervalMs <= 0) await liveness.tick();
  // Only now, so that loading does not compete with the start-up work above (the local member's probe).
  index.start();
  const resume = async () => {
    const resumed = await operations.resumeInterrupted();
    if (resumed > 0) logger.info({ resumed }, "resumed interrupted operations");
  };
  if (channel) {
    const reload = async (what: Reloaded) => {
      if (what === "config") {
        await config.load();
        await scriptlets.loadStored();
      } else if (what === "groups") await groupCache.load();
      else if (what === "projects") await projects.load();
      else if (what === "pools") await pools.load();
      else if (what === "certificates") trust.forgetCached();
      else tokens.forgetCached();
    };
    replicas = new Replicas({
      self: replicaName, channel, changes, bus, urls: () => ownEndpoints().urls,
      reload,
      resync: () => storedChanges({
        view, members: () => members.list(), instances: () => records.list(), projects: () => projects.list(),
        reload: async () => { for (const what of RELOADED) await reload(what); },
      }),
      onResync: (why) => logger.warn({ replica: replicaName, why }, "re-reading everything from the store: a change another replica committed may not have reached the feed"),
      operationEnded: (id) => operations.wake(id),
      groupsOf: (member) => groupCache.ofMember(member),
      onLead: async (epoch) => {
        logger.info({ replica: replicaName, epoch }, "this replica leads: it runs the liveness sweep, healing and orphaned operations");
        lead();
        await operations.prune(true);
        await resume();
      },
      whileLeading: resume,
      onFollow: () => {
        logger.warn({ replica: replicaName }, "this replica no longer leads");
        liveness.stop();
        healing.stop();
      },
      onError: (err, what) => logger.warn({ err }, what),
    });
    await replicas.start();
  } else {
    lead();
    await operations.prune(true);
    await resume();
  }

  return {
    services,
    changes,
    app,
    fastPath: heartbeatFastPath(services, metrics),
    liveness,
    healing,
    maintenance,
    generatedAdminToken,
    localMemberName,
    certificate,
    replicas: replicaStatus,
    heartbeatLocal,
    listening: async () => { await replicas?.announce(); },
    async close() {
      if (heartbeatTimer) clearTimeout(heartbeatTimer);
      await replicas?.stop();
      liveness.stop();
      healing.stop();
      await operations.settle();
      index.stop();
      await scriptlets.close();
      await members.writeHeartbeats();
      await channel?.close();
      await store.close();
      logger.info("berth stopped");
    },
  };
}

/** The store --store names: PostgreSQL (with the replicas' channel) for a postgres:// URL, else SQLite in the data directory. */
async function openStore(url: string | undefined, dataDir: string): Promise<{ store: Store; channel: ReplicaChannel | null }> {
  if (url === undefined || url === "") return { store: new SqliteStore(join(dataDir, "berth.db")), channel: null };
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new Error(`--store must be a postgres://user@host/database URL (or absent for the embedded SQLite store), got ${JSON.stringify(url.replace(/:[^:@/]*@/, ":***@"))}`);
  }
  const store = await PgStore.open({ url });
  try {
    return { store, channel: await store.openChannel() };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/**
 * The certificate: --tls-cert/--tls-key when given; on a shared database the one kept there (the
 * first replica generates it), so that every replica presents the same one and a client or agent
 * that pinned it can fail over; else the data directory's.
 */
async function serviceCertificate(opts: BerthOptions, dataDir: string, channel: ReplicaChannel | null): Promise<ServerCertificate> {
  if (!channel || opts.tlsCertFile || opts.tlsKeyFile) return loadOrCreateCertificate({ dataDir, certFile: opts.tlsCertFile, keyFile: opts.tlsKeyFile });
  let made = "";
  const kept = await channel.sharedValue("tls", async () => (made = JSON.stringify(await generateSelfSigned())));
  const pair = JSON.parse(kept) as { cert: string; key: string };
  // Generated by this start only when its certificate is the one kept (two replicas may race).
  return { ...certificateFromPem(pair.cert, pair.key, "the TLS certificate kept in the database"), generated: made === kept };
}

/** Warnings for operators, from the event stream: operations that failed or were cancelled, members going offline. */
function logWhatFails(bus: EventBus, logger: Logger): void {
  bus.subscribe((event) => {
    const m = event.metadata as Record<string, any>;
    if (event.type === "operation" && (m.status === "Failure" || m.status === "Cancelled")) {
      logger.warn(
        { operation: m.id, description: m.description, status: m.status, error: m.err, resources: m.resources },
        m.status === "Failure" ? "operation failed" : "operation cancelled",
      );
    } else if (event.type === "lifecycle" && m.action === "cluster-member-status-changed") {
      const member = String(m.source).replace("/1.0/cluster/members/", "");
      const { from, to, message } = m.context ?? {};
      if (to === "Offline") logger.warn({ member, message }, "cluster member went offline");
      else if (from === "Offline" && to === "Online") logger.info({ member }, "cluster member is back online");
    }
  });
}
