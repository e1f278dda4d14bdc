/**
 * The SQLite tables behind SqliteStore (sqliteStore.ts): every read and write as a synchronous
 * call on better-sqlite3. SqliteStore turns them into the asynchronous Store interface; nothing
 * else uses this class.
 */
import { and, asc, eq, gt, inArray, isNull, sql } from "drizzle-orm";
import type Database from "better-sqlite3";
import type {
  ClusterGroup, Instance, InstanceStatus, MemberLifecycle, MemberRecord, MemberResources, MemberStateReport,
  OperationStatus, Project, StoragePool, TokenInfo, TokenRole,
} from "../domain/types.ts";
import { RESOURCE_CONFIG_KEYS } from "../domain/instanceConfig.ts";
import { openDatabase, type Db } from "./db.ts";
import * as t from "./schema.ts";
import {
  certificateFromRow, groupFromRows, instanceFromRow, joinTokenFromRow, memberFromRow, operationFromRow, poolFromRow, projectFromRow, tokenFromRow, trustTokenFromRow,
  type OperationRecord,
} from "./rows.ts";
import type { JoinTokenInfo } from "../domain/joinToken.ts";
import type { CertificateInfo, TrustTokenInfo } from "../domain/trustToken.ts";
import type { Heartbeat, InstancePatch, InstanceResources, MemberPatch, NewCertificate, NewMember, NewOperation, NewTrustToken, PoolPatch, StoreTable } from "./store.ts";
import { TABLES } from "./store.ts";

/**
 * listInstanceResources' two statements: from the start, and after a (project, name) (keyset
 * paging on the unique index); and instanceResourcesOn's, one member's (on the location index).
 */
function instanceResourceStatements(sqlite: Database.Database) {
  const columns = ["project", "name", "location", "devices", ...RESOURCE_CONFIG_KEYS.map((key) => `json_extract(config, '$."${key}"')`)].join(", ");
  return {
    instanceResources: sqlite.prepare(`select ${columns} from instances order by project, name limit ?`).raw(true),
    instanceResourcesAfter: sqlite.prepare(`select ${columns} from instances where (project, name) > (?, ?) order by project, name limit ?`).raw(true),
    instanceResourcesOn: sqlite.prepare(`select ${columns} from instances where location = ?`).raw(true),
  };
}

export class SqliteTables {
  readonly db: Db;
  private readonly sqlite: Database.Database;

  /** Statements on the hot paths (every request, every placement), built and compiled once. */
  private readonly q;

  constructor(path: string) {
    const { db, sqlite } = openDatabase(path);
    this.db = db;
    this.sqlite = sqlite;
    const p = (name: string) => sql.placeholder(name);
    this.q = {
      member: db.select().from(t.members).where(eq(t.members.name, p("name"))).prepare(),
      groupsOfMember: db.select({ group: t.groupMembers.group }).from(t.groupMembers)
        .where(eq(t.groupMembers.member, p("member"))).orderBy(asc(t.groupMembers.group)).prepare(),
      // One heartbeat a second from each agent: a plain statement, the JSON columns kept when not given.
      heartbeat: sqlite.prepare(
        "update members set last_heartbeat = ?, resources = coalesce(?, resources), member_state = coalesce(?, member_state) where name = ?",
      ),
      instance: db.select().from(t.instances).where(and(eq(t.instances.project, p("project")), eq(t.instances.name, p("name")))).prepare(),
      groupExists: db.select({ name: t.clusterGroups.name }).from(t.clusterGroups).where(eq(t.clusterGroups.name, p("name"))).prepare(),
      project: db.select().from(t.projects).where(eq(t.projects.name, p("name"))).prepare(),
      pool: db.select().from(t.storagePools).where(eq(t.storagePools.name, p("name"))).prepare(),
      tokenByHash: db.select().from(t.tokens).where(eq(t.tokens.hash, p("hash"))).prepare(),
      insertInstance: db.insert(t.instances).values({
        project: p("project"), name: p("name"), type: p("type"), architecture: p("architecture"), location: p("location"),
        status: p("status"), description: p("description"), config: p("config"), devices: p("devices"),
        profiles: p("profiles"), createdAt: p("createdAt"), source: p("source"),
      }).prepare(),
      instanceStatus: db.update(t.instances).set({ status: sql`${p("status")}` })
        .where(and(eq(t.instances.project, p("project")), eq(t.instances.name, p("name")))).prepare(),
      instanceLocation: db.update(t.instances).set({ location: sql`${p("location")}` })
        .where(and(eq(t.instances.project, p("project")), eq(t.instances.name, p("name")))).prepare(),
      instanceConfig: db.update(t.instances).set({ config: sql`${p("config")}` })
        .where(and(eq(t.instances.project, p("project")), eq(t.instances.name, p("name")))).prepare(),
      ...instanceResourceStatements(sqlite),
    };
  }

  close(): void {
    this.sqlite.close();
  }

  get inTransaction(): boolean {
    return this.sqlite.inTransaction;
  }

  exec(statement: "BEGIN IMMEDIATE" | "COMMIT" | "ROLLBACK"): void {
    this.sqlite.exec(statement);
  }

  /** Every row of a table, as stored (for diagnostics and tests that check nothing was written). */
  dumpTable(table: StoreTable): unknown[] {
    if (!TABLES.includes(table)) throw new Error(`unknown table ${table}`);
    return this.sqlite.prepare(`select * from ${table} order by rowid`).all();
  }

  /** Runs fn in one transaction (a savepoint inside an open one): all of its writes land, or none. */
  private transaction<T>(fn: () => T): T {
    return this.sqlite.transaction(fn)();
  }

  // ---- members -------------------------------------------------------------------------------

  listMembers(): MemberRecord[] {
    return this.db.select().from(t.members).orderBy(asc(t.members.name)).all().map(memberFromRow);
  }

  getMember(name: string): MemberRecord | undefined {
    const row = this.q.member.get({ name });
    return row ? memberFromRow(row) : undefined;
  }

  insertMember(m: NewMember, now: number): void {
    this.transaction(() => {
      this.db.insert(t.members).values({
        name: m.server_name, url: m.url, architecture: m.architecture, failureDomain: m.failure_domain,
        description: m.description, roles: m.roles, config: m.config, state: "CREATED",
        resources: m.resources, memberState: null, lastHeartbeat: null, createdAt: now,
      }).run();
      for (const group of m.groups) this.db.insert(t.groupMembers).values({ group, member: m.server_name }).run();
    });
  }

  updateMember(name: string, patch: MemberPatch): void {
    const values: Partial<typeof t.members.$inferInsert> = {};
    if (patch.url !== undefined) values.url = patch.url;
    if (patch.failure_domain !== undefined) values.failureDomain = patch.failure_domain;
    if (patch.description !== undefined) values.description = patch.description;
    if (patch.roles !== undefined) values.roles = patch.roles;
    if (patch.config !== undefined) values.config = patch.config;
    if (patch.architecture !== undefined) values.architecture = patch.architecture;
    if (Object.keys(values).length > 0) this.db.update(t.members).set(values).where(eq(t.members.name, name)).run();
  }

  setMemberLifecycle(name: string, state: MemberLifecycle): void {
    this.db.update(t.members).set({ state }).where(eq(t.members.name, name)).run();
  }

  recordHeartbeats(beats: readonly Heartbeat[]): void {
    this.transaction(() => {
      for (const b of beats) this.q.heartbeat.run(b.at, b.resources ? JSON.stringify(b.resources) : null, b.state ? JSON.stringify(b.state) : null, b.name);
    });
  }

  /** Deletes a member and the agent tokens bound to it, in one transaction. */
  deleteMember(name: string): void {
    this.transaction(() => {
      this.db.delete(t.tokens).where(eq(t.tokens.member, name)).run();
      this.db.delete(t.members).where(eq(t.members.name, name)).run();
    });
  }

  // ---- cluster groups ------------------------------------------------------------------------

  listGroups(): ClusterGroup[] {
    const links = this.db.select().from(t.groupMembers).orderBy(asc(t.groupMembers.member)).all();
    const byGroup = new Map<string, string[]>();
    for (const link of links) {
      const list = byGroup.get(link.group) ?? [];
      list.push(link.member);
      byGroup.set(link.group, list);
    }
    return this.db.select().from(t.clusterGroups).orderBy(asc(t.clusterGroups.name)).all()
      .map((row) => groupFromRows(row, byGroup.get(row.name) ?? []));
  }

  groupExists(name: string): boolean {
    return this.q.groupExists.get({ name }) !== undefined;
  }

  getGroup(name: string): ClusterGroup | undefined {
    const row = this.db.select().from(t.clusterGroups).where(eq(t.clusterGroups.name, name)).get();
    if (!row) return undefined;
    const members = this.db.select().from(t.groupMembers).where(eq(t.groupMembers.group, name))
      .orderBy(asc(t.groupMembers.member)).all().map((l) => l.member);
    return groupFromRows(row, members);
  }

  insertGroup(name: string, description: string, members: string[]): void {
    this.transaction(() => {
      this.db.insert(t.clusterGroups).values({ name, description }).run();
      for (const member of members) this.db.insert(t.groupMembers).values({ group: name, member }).run();
    });
  }

  updateGroup(name: string, description: string | undefined, members: string[] | undefined): void {
    this.transaction(() => {
      if (description !== undefined) this.db.update(t.clusterGroups).set({ description }).where(eq(t.clusterGroups.name, name)).run();
      if (members !== undefined) {
        this.db.delete(t.groupMembers).where(eq(t.groupMembers.group, name)).run();
        for (const member of members) this.db.insert(t.groupMembers).values({ group: name, member }).run();
      }
    });
  }

  deleteGroup(name: string): void {
    this.db.delete(t.clusterGroups).where(eq(t.clusterGroups.name, name)).run();
  }

  groupsOfMember(member: string): string[] {
    return this.q.groupsOfMember.all({ member }).map((l) => l.group);
  }

  /** Replaces the groups a member belongs to. */
  setMemberGroups(member: string, groups: string[]): void {
    this.transaction(() => {
      this.db.delete(t.groupMembers).where(eq(t.groupMembers.member, member)).run();
      for (const group of groups) this.db.insert(t.groupMembers).values({ group, member }).run();
    });
  }

  // ---- storage pools and projects ------------------------------------------------------------

  listPools(): StoragePool[] {
    return this.db.select().from(t.storagePools).orderBy(asc(t.storagePools.name)).all().map(poolFromRow);
  }

  getPool(name: string): StoragePool | undefined {
    const row = this.q.pool.get({ name });
    return row ? poolFromRow(row) : undefined;
  }

  insertPool(pool: StoragePool): void {
    const { defined_on: definedOn, ...rest } = pool;
    this.db.insert(t.storagePools).values({ ...rest, definedOn }).run();
  }

  updatePool(name: string, patch: PoolPatch): void {
    const { defined_on: definedOn, ...rest } = patch;
    this.db.update(t.storagePools).set({ ...rest, ...(definedOn ? { definedOn } : {}) }).where(eq(t.storagePools.name, name)).run();
  }

  deletePool(name: string): void {
    this.db.delete(t.storagePools).where(eq(t.storagePools.name, name)).run();
  }

  listProjects(): Project[] {
    return this.db.select().from(t.projects).orderBy(asc(t.projects.name)).all().map(projectFromRow);
  }

  getProject(name: string): Project | undefined {
    const row = this.q.project.get({ name });
    return row ? projectFromRow(row) : undefined;
  }

  insertProject(project: Project): void {
    this.db.insert(t.projects).values(project).run();
  }

  updateProject(name: string, description: string, config: Record<string, string>): void {
    this.db.update(t.projects).set({ description, config }).where(eq(t.projects.name, name)).run();
  }

  deleteProject(name: string): void {
    this.db.delete(t.projects).where(eq(t.projects.name, name)).run();
  }

  // ---- instances -----------------------------------------------------------------------------

  listInstances(filter: { project?: string; location?: string } = {}): Instance[] {
    const where = [];
    if (filter.project !== undefined) where.push(eq(t.instances.project, filter.project));
    if (filter.location !== undefined) where.push(eq(t.instances.location, filter.location));
    return this.db.select().from(t.instances).where(and(...where))
      .orderBy(asc(t.instances.project), asc(t.instances.name)).all().map(instanceFromRow);
  }

  /**
   * Instances as the scheduler accounts them, in (project, name) order, `limit` at a time after
   * `after`: only the columns and config keys a resource request is read from, straight from
   * SQLite, with one config and one devices object per distinct value. The scheduler index reads
   * 100,000 instances this way in a fraction of listInstances' time and memory (bench/cli-startup).
   */
  listInstanceResources(after: { project: string; name: string } | null = null, limit = -1): InstanceResources[] {
    return this.resourcesOf(after === null ? this.q.instanceResources.all(limit) : this.q.instanceResourcesAfter.all(after.project, after.name, limit));
  }

  /** The instances on one member (a check against the stored truth, made on every move): read on the location index. */
  instanceResourcesOn(location: string): InstanceResources[] {
    return this.resourcesOf(this.q.instanceResourcesOn.all(location));
  }

  private resourcesOf(read: unknown[]): InstanceResources[] {
    const rows = read as [string, string, string, string, ...(string | null)[]][];
    const devicesOf = new Map<string, { devices: Instance["devices"]; configs: Map<string, Instance["config"]> }>();
    return rows.map(([project, name, location, devicesJson, ...limits]) => {
      let shape = devicesOf.get(devicesJson);
      if (!shape) devicesOf.set(devicesJson, (shape = { devices: Object.freeze(JSON.parse(devicesJson) as Instance["devices"]), configs: new Map() }));
      const limitsKey = JSON.stringify(limits);
      let config = shape.configs.get(limitsKey);
      if (!config) {
        const read: Record<string, string> = {};
        RESOURCE_CONFIG_KEYS.forEach((key, k) => { if (limits[k] !== null) read[key] = limits[k] as string; });
        shape.configs.set(limitsKey, (config = Object.freeze(read)));
      }
      return { project, name, location, config, devices: shape.devices };
    });
  }

  /** One connection, one writer: a transaction (BEGIN IMMEDIATE) already excludes every other placement. */
  lockMember(_name: string): void {}

  getInstance(project: string, name: string): Instance | undefined {
    const row = this.q.instance.get({ project, name });
    return row ? instanceFromRow(row) : undefined;
  }

  countInstances(filter: { project?: string; location?: string } = {}): number {
    const where = [];
    if (filter.project !== undefined) where.push(eq(t.instances.project, filter.project));
    if (filter.location !== undefined) where.push(eq(t.instances.location, filter.location));
    const row = this.db.select({ n: sql<number>`count(*)` }).from(t.instances).where(and(...where)).get();
    return row?.n ?? 0;
  }

  countInstancesByLocationAndStatus(): { location: string; status: string; n: number }[] {
    return this.db.select({ location: t.instances.location, status: t.instances.status, n: sql<number>`count(*)` })
      .from(t.instances).groupBy(t.instances.location, t.instances.status).all();
  }

  insertInstance(instance: Instance): void {
    this.q.insertInstance.run({
      project: instance.project, name: instance.name, type: instance.type, architecture: instance.architecture,
      location: instance.location, status: instance.status, description: instance.description,
      config: instance.config, devices: instance.devices, profiles: instance.profiles,
      createdAt: Date.parse(instance.created_at), source: instance.source ?? null,
    });
  }

  updateInstance(project: string, name: string, patch: InstancePatch): void {
    // The one-column updates executors and evacuations make all the time use compiled statements.
    const keys = Object.keys(patch).filter((k) => patch[k as keyof InstancePatch] !== undefined);
    if (keys.length === 1) {
      if (keys[0] === "status") return void this.q.instanceStatus.run({ project, name, status: patch.status });
      if (keys[0] === "location") return void this.q.instanceLocation.run({ project, name, location: patch.location });
      if (keys[0] === "config") return void this.q.instanceConfig.run({ project, name, config: JSON.stringify(patch.config) });
    }
    const values: Partial<typeof t.instances.$inferInsert> = {};
    if (patch.config !== undefined) values.config = patch.config;
    if (patch.devices !== undefined) values.devices = patch.devices;
    if (patch.profiles !== undefined) values.profiles = patch.profiles;
    if (patch.description !== undefined) values.description = patch.description;
    if (patch.status !== undefined) values.status = patch.status;
    if (patch.location !== undefined) values.location = patch.location;
    if (Object.keys(values).length === 0) return;
    this.db.update(t.instances).set(values).where(and(eq(t.instances.project, project), eq(t.instances.name, name))).run();
  }

  setInstanceStatus(project: string, name: string, status: InstanceStatus): void {
    this.updateInstance(project, name, { status });
  }

  deleteInstance(project: string, name: string): void {
    this.db.delete(t.instances).where(and(eq(t.instances.project, project), eq(t.instances.name, name))).run();
  }

  // ---- server config -------------------------------------------------------------------------

  readConfig(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const row of this.db.select().from(t.serverConfig).all()) out[row.key] = row.value;
    return out;
  }

  /** Writes the given keys (null removes a key) in one transaction. */
  writeConfig(changes: Record<string, string | null>): void {
    this.transaction(() => {
      for (const [key, value] of Object.entries(changes)) {
        if (value === null) this.db.delete(t.serverConfig).where(eq(t.serverConfig.key, key)).run();
        else this.db.insert(t.serverConfig).values({ key, value })
          .onConflictDoUpdate({ target: t.serverConfig.key, set: { value } }).run();
      }
    });
  }

  // ---- tokens --------------------------------------------------------------------------------

  insertToken(token: { id: string; hash: string; role: TokenRole; member: string | null; description: string }, now: number): void {
    this.db.insert(t.tokens).values({ ...token, createdAt: now, lastUsedAt: null }).run();
  }

  findTokenByHash(hash: string): TokenInfo | undefined {
    const row = this.q.tokenByHash.get({ hash });
    return row ? tokenFromRow(row) : undefined;
  }

  listTokens(): TokenInfo[] {
    return this.db.select().from(t.tokens).orderBy(asc(t.tokens.createdAt)).all().map(tokenFromRow);
  }

  touchToken(id: string, now: number): void {
    this.db.update(t.tokens).set({ lastUsedAt: now }).where(eq(t.tokens.id, id)).run();
  }

  deleteToken(id: string): boolean {
    return this.db.delete(t.tokens).where(eq(t.tokens.id, id)).run().changes > 0;
  }

  countTokens(role?: TokenRole): number {
    const q = this.db.select({ n: sql<number>`count(*)` }).from(t.tokens);
    const row = role ? q.where(eq(t.tokens.role, role)).get() : q.get();
    return row?.n ?? 0;
  }

  // ---- join tokens ---------------------------------------------------------------------------

  insertJoinToken(token: { id: string; hash: string; member: string; expiresAt: number }, now: number): void {
    this.db.insert(t.joinTokens).values({ ...token, createdAt: now }).run();
  }

  findJoinTokenByHash(hash: string): JoinTokenInfo | undefined {
    const row = this.db.select().from(t.joinTokens).where(eq(t.joinTokens.hash, hash)).get();
    return row ? joinTokenFromRow(row) : undefined;
  }

  getJoinToken(id: string): JoinTokenInfo | undefined {
    const row = this.db.select().from(t.joinTokens).where(eq(t.joinTokens.id, id)).get();
    return row ? joinTokenFromRow(row) : undefined;
  }

  listJoinTokens(member?: string): JoinTokenInfo[] {
    const q = this.db.select().from(t.joinTokens);
    const order = [asc(t.joinTokens.createdAt), sql`rowid`] as const;
    const rows = member === undefined ? q.orderBy(...order).all() : q.where(eq(t.joinTokens.member, member)).orderBy(...order).all();
    return rows.map(joinTokenFromRow);
  }

  /** One conditional update: whichever of two concurrent uses runs first changes the row, the other changes nothing. */
  useJoinToken(id: string, credentialId: string, now: number): boolean {
    return this.db.update(t.joinTokens).set({ usedAt: now, credentialId })
      .where(and(eq(t.joinTokens.id, id), isNull(t.joinTokens.usedAt), isNull(t.joinTokens.revokedAt), gt(t.joinTokens.expiresAt, now)))
      .run().changes === 1;
  }

  revokeJoinTokens(which: { id: string } | { member: string }, reason: string, now: number): number {
    const named = "id" in which ? eq(t.joinTokens.id, which.id) : eq(t.joinTokens.member, which.member);
    return this.db.update(t.joinTokens).set({ revokedAt: now, revokedReason: reason })
      .where(and(named, isNull(t.joinTokens.usedAt), isNull(t.joinTokens.revokedAt))).run().changes;
  }

  // ---- trusted certificates and trust tokens ---------------------------------------------------

  insertCertificate(cert: NewCertificate, now: number): void {
    this.db.insert(t.certificates).values({ ...cert, createdAt: now }).run();
  }

  getCertificate(fingerprint: string): CertificateInfo | undefined {
    const row = this.db.select().from(t.certificates).where(eq(t.certificates.fingerprint, fingerprint)).get();
    return row ? certificateFromRow(row) : undefined;
  }

  listCertificates(): CertificateInfo[] {
    return this.db.select().from(t.certificates).orderBy(asc(t.certificates.createdAt), asc(t.certificates.fingerprint)).all().map(certificateFromRow);
  }

  deleteCertificate(fingerprint: string): boolean {
    return this.db.delete(t.certificates).where(eq(t.certificates.fingerprint, fingerprint)).run().changes > 0;
  }

  insertTrustToken(token: NewTrustToken, now: number): void {
    this.db.insert(t.trustTokens).values({ ...token, createdAt: now }).run();
  }

  findTrustTokenByHash(hash: string): TrustTokenInfo | undefined {
    const row = this.db.select().from(t.trustTokens).where(eq(t.trustTokens.hash, hash)).get();
    return row ? trustTokenFromRow(row) : undefined;
  }

  getTrustToken(id: string): TrustTokenInfo | undefined {
    const row = this.db.select().from(t.trustTokens).where(eq(t.trustTokens.id, id)).get();
    return row ? trustTokenFromRow(row) : undefined;
  }

  listTrustTokens(): TrustTokenInfo[] {
    return this.db.select().from(t.trustTokens).orderBy(asc(t.trustTokens.createdAt), sql`rowid`).all().map(trustTokenFromRow);
  }

  /** One conditional update, as useJoinToken: of two concurrent uses exactly one changes the row. */
  useTrustToken(id: string, fingerprint: string, now: number): boolean {
    return this.db.update(t.trustTokens).set({ usedAt: now, fingerprint })
      .where(and(eq(t.trustTokens.id, id), isNull(t.trustTokens.usedAt), isNull(t.trustTokens.revokedAt), gt(t.trustTokens.expiresAt, now)))
      .run().changes === 1;
  }

  revokeTrustToken(id: string, now: number): boolean {
    return this.db.update(t.trustTokens).set({ revokedAt: now })
      .where(and(eq(t.trustTokens.id, id), isNull(t.trustTokens.usedAt), isNull(t.trustTokens.revokedAt))).run().changes === 1;
  }

  // ---- operations ----------------------------------------------------------------------------

  insertOperation(op: NewOperation, now: number): void {
    this.db.insert(t.operations).values({
      id: op.id, kind: op.kind, description: op.description, status: "Running", createdAt: now, updatedAt: now,
      resources: op.resources, metadata: op.metadata, input: op.input, mayCancel: op.mayCancel, err: "",
    }).run();
  }

  updateOperation(id: string, patch: { status?: OperationStatus; metadata?: Record<string, unknown>; err?: string; mayCancel?: boolean }, now: number): void {
    this.db.update(t.operations).set({ ...patch, updatedAt: now }).where(eq(t.operations.id, id)).run();
  }

  getOperation(id: string): OperationRecord | undefined {
    const row = this.db.select().from(t.operations).where(eq(t.operations.id, id)).get();
    return row ? operationFromRow(row) : undefined;
  }

  listOperations(statuses?: OperationStatus[]): OperationRecord[] {
    const q = this.db.select().from(t.operations);
    const rows = statuses ? q.where(inArray(t.operations.status, statuses)).orderBy(asc(t.operations.createdAt)).all()
      : q.orderBy(asc(t.operations.createdAt)).all();
    return rows.map(operationFromRow);
  }

  countOperationsByStatus(): { status: string; n: number }[] {
    return this.db.select({ status: t.operations.status, n: sql<number>`count(*)` }).from(t.operations)
      .groupBy(t.operations.status).all();
  }

  /** Forgets finished operations older than the cutoff, so the table does not grow without bound. */
  pruneOperations(olderThan: number): number {
    return this.db.delete(t.operations)
      .where(and(inArray(t.operations.status, ["Success", "Failure", "Cancelled"]), sql`${t.operations.updatedAt} < ${olderThan}`))
      .run().changes;
  }
}
