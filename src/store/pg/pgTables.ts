/**
 * The PostgreSQL tables behind PgStore (pgStore.ts): every Store method as queries on one drizzle
 * executor, either the pool (each call its own statement or transaction) or an open transaction
 * (calls made through transaction(fn)'s store). Methods that write several rows run in a
 * transaction of their own (a savepoint when one is open), so each is atomic either way.
 */
import { and, asc, eq, gt, inArray, isNull, sql } from "drizzle-orm";
import type { NodePgDatabase } from "drizzle-orm/node-postgres";
import type {
  ClusterGroup, Instance, InstanceStatus, MemberLifecycle, MemberRecord, MemberResources, MemberStateReport,
  OperationStatus, Project, StoragePool, TokenInfo, TokenRole,
} from "../../domain/types.ts";
import type { JoinTokenInfo } from "../../domain/joinToken.ts";
import type { CertificateInfo, TrustTokenInfo } from "../../domain/trustToken.ts";
import { RESOURCE_CONFIG_KEYS } from "../../domain/instanceConfig.ts";
import {
  certificateFromRow, groupFromRows, instanceFromRow, joinTokenFromRow, memberFromRow, operationFromRow, poolFromRow, projectFromRow, tokenFromRow,
  trustTokenFromRow, type OperationRecord,
} from "../rows.ts";
import type {
  Heartbeat, InstancePatch, InstanceResources, MemberPatch, NewCertificate, NewMember, NewOperation, NewTrustToken, PoolPatch, StoreTable,
} from "../store.ts";
import { TABLES, type LeaderFence } from "../store.ts";
import { checkFence, LEASE_EPOCH_FOR_SHARE } from "./leaderFence.ts";
import * as t from "./pgSchema.ts";

export type PgDb = NodePgDatabase<typeof t>;

const count = sql<number>`count(*)::int`;

/** listInstanceResources' columns: the request's config keys read in the database, devices as its text. */
const RESOURCE_COLUMNS = sql.raw(
  ["project", "name", "location", "devices::text as devices", ...RESOURCE_CONFIG_KEYS.map((k, i) => `config->>'${k}' as k${i}`)].join(", "),
);

export class PgTables {
  constructor(private readonly db: PgDb) {}

  /** fn in one transaction (a savepoint inside an open one): all of its writes land, or none. */
  private atomic<T>(fn: (db: PgDb) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(tx as unknown as PgDb));
  }

  async dumpTable(table: StoreTable): Promise<unknown[]> {
    if (!TABLES.includes(table)) throw new Error(`unknown table ${table}`);
    return (await this.db.execute(sql.raw(`select * from "${table}"`))).rows;
  }

  /** Inside a transaction: refuses (LeaseLost) unless the leader lease is at the fence's epoch, and holds it there until the end. */
  async checkFence(fence: LeaderFence): Promise<void> {
    checkFence(fence, (await this.db.execute(sql.raw(LEASE_EPOCH_FOR_SHARE))).rows);
  }

  /** Locks a member's row until the open transaction ends (placements on it from any replica wait). */
  async lockMember(name: string): Promise<void> {
    await this.db.execute(sql`select 1 from ${t.members} where ${t.members.name} = ${name} for update`);
  }

  // ---- members -------------------------------------------------------------------------------

  async listMembers(): Promise<MemberRecord[]> {
    return (await this.db.select().from(t.members).orderBy(asc(t.members.name))).map(memberFromRow);
  }

  async getMember(name: string): Promise<MemberRecord | undefined> {
    const [row] = await this.db.select().from(t.members).where(eq(t.members.name, name));
    return row ? memberFromRow(row) : undefined;
  }

  async insertMember(m: NewMember, now: number): Promise<void> {
    await this.atomic(async (db) => {
      await db.insert(t.members).values({
        name: m.server_name, url: m.url, architecture: m.architecture, failureDomain: m.failure_domain,
        description: m.description, roles: m.roles, config: m.config, state: "CREATED",
        resources: m.resources, memberState: null, lastHeartbeat: null, createdAt: now,
      });
      if (m.groups.length > 0) await db.insert(t.groupMembers).values(m.groups.map((group) => ({ group, member: m.server_name })));
    });
  }

  async updateMember(name: string, patch: MemberPatch): Promise<void> {
    const values: Partial<typeof t.members.$inferInsert> = {};
    if (patch.url !== undefined) values.url = patch.url;
    if (patch.failure_domain !== undefined) values.failureDomain = patch.failure_domain;
    if (patch.description !== undefined) values.description = patch.description;
    if (patch.roles !== undefined) values.roles = patch.roles;
    if (patch.config !== undefined) values.config = patch.config;
    if (patch.architecture !== undefined) values.architecture = patch.architecture;
    if (Object.keys(values).length > 0) await this.db.update(t.members).set(values).where(eq(t.members.name, name));
  }

  async setMemberLifecycle(name: string, state: MemberLifecycle): Promise<void> {
    await this.db.update(t.members).set({ state }).where(eq(t.members.name, name));
  }

  async recordHeartbeats(beats: readonly Heartbeat[]): Promise<void> {
    await this.atomic(async (db) => {
      for (const b of beats) {
        const values: Partial<typeof t.members.$inferInsert> = { lastHeartbeat: b.at };
        if (b.resources) values.resources = b.resources;
        if (b.state) values.memberState = b.state;
        await db.update(t.members).set(values).where(eq(t.members.name, b.name));
      }
    });
  }

  async deleteMember(name: string): Promise<void> {
    await this.atomic(async (db) => {
      await db.delete(t.tokens).where(eq(t.tokens.member, name));
      await db.delete(t.members).where(eq(t.members.name, name));
    });
  }

  // ---- cluster groups ------------------------------------------------------------------------

  async listGroups(): Promise<ClusterGroup[]> {
    const [links, rows] = await Promise.all([
      this.db.select().from(t.groupMembers).orderBy(asc(t.groupMembers.member)),
      this.db.select().from(t.clusterGroups).orderBy(asc(t.clusterGroups.name)),
    ]);
    const byGroup = new Map<string, string[]>();
    for (const link of links) {
      const list = byGroup.get(link.group) ?? [];
      list.push(link.member);
      byGroup.set(link.group, list);
    }
    return rows.map((row) => groupFromRows(row, byGroup.get(row.name) ?? []));
  }

  async groupExists(name: string): Promise<boolean> {
    return (await this.db.select({ name: t.clusterGroups.name }).from(t.clusterGroups).where(eq(t.clusterGroups.name, name))).length > 0;
  }

  async getGroup(name: string): Promise<ClusterGroup | undefined> {
    const [row] = await this.db.select().from(t.clusterGroups).where(eq(t.clusterGroups.name, name));
    if (!row) return undefined;
    const members = (await this.db.select().from(t.groupMembers).where(eq(t.groupMembers.group, name)).orderBy(asc(t.groupMembers.member)))
      .map((l) => l.member);
    return groupFromRows(row, members);
  }

  async insertGroup(name: string, description: string, members: string[]): Promise<void> {
    await this.atomic(async (db) => {
      await db.insert(t.clusterGroups).values({ name, description });
      if (members.length > 0) await db.insert(t.groupMembers).values(members.map((member) => ({ group: name, member })));
    });
  }

  async updateGroup(name: string, description: string | undefined, members: string[] | undefined): Promise<void> {
    await this.atomic(async (db) => {
      if (description !== undefined) await db.update(t.clusterGroups).set({ description }).where(eq(t.clusterGroups.name, name));
      if (members !== undefined) {
        await db.delete(t.groupMembers).where(eq(t.groupMembers.group, name));
        if (members.length > 0) await db.insert(t.groupMembers).values(members.map((member) => ({ group: name, member })));
      }
    });
  }

  async deleteGroup(name: string): Promise<void> {
    await this.db.delete(t.clusterGroups).where(eq(t.clusterGroups.name, name));
  }

  async groupsOfMember(member: string): Promise<string[]> {
    return (await this.db.select({ group: t.groupMembers.group }).from(t.groupMembers)
      .where(eq(t.groupMembers.member, member)).orderBy(asc(t.groupMembers.group))).map((l) => l.group);
  }

  async setMemberGroups(member: string, groups: string[]): Promise<void> {
    await this.atomic(async (db) => {
      await db.delete(t.groupMembers).where(eq(t.groupMembers.member, member));
      if (groups.length > 0) await db.insert(t.groupMembers).values(groups.map((group) => ({ group, member })));
    });
  }

  // ---- storage pools and projects ------------------------------------------------------------

  async listPools(): Promise<StoragePool[]> {
    return (await this.db.select().from(t.storagePools).orderBy(asc(t.storagePools.name))).map(poolFromRow);
  }

  async getPool(name: string): Promise<StoragePool | undefined> {
    const [row] = await this.db.select().from(t.storagePools).where(eq(t.storagePools.name, name));
    return row ? poolFromRow(row) : undefined;
  }

  async insertPool(pool: StoragePool): Promise<void> {
    const { defined_on: definedOn, ...rest } = pool;
    await this.db.insert(t.storagePools).values({ ...rest, definedOn });
  }

  async updatePool(name: string, patch: PoolPatch): Promise<void> {
    const { defined_on: definedOn, ...rest } = patch;
    const values = { ...rest, ...(definedOn ? { definedOn } : {}) };
    if (Object.keys(values).length > 0) await this.db.update(t.storagePools).set(values).where(eq(t.storagePools.name, name));
  }

  async deletePool(name: string): Promise<void> {
    await this.db.delete(t.storagePools).where(eq(t.storagePools.name, name));
  }

  async listProjects(): Promise<Project[]> {
    return (await this.db.select().from(t.projects).orderBy(asc(t.projects.name))).map(projectFromRow);
  }

  async getProject(name: string): Promise<Project | undefined> {
    const [row] = await this.db.select().from(t.projects).where(eq(t.projects.name, name));
    return row ? projectFromRow(row) : undefined;
  }

  async insertProject(project: Project): Promise<void> {
    await this.db.insert(t.projects).values(project);
  }

  async updateProject(name: string, description: string, config: Record<string, string>): Promise<void> {
    await this.db.update(t.projects).set({ description, config }).where(eq(t.projects.name, name));
  }

  async deleteProject(name: string): Promise<void> {
    await this.db.delete(t.projects).where(eq(t.projects.name, name));
  }

  // ---- instances -----------------------------------------------------------------------------

  private instanceFilter(filter: { project?: string; location?: string }) {
    const where = [];
    if (filter.project !== undefined) where.push(eq(t.instances.project, filter.project));
    if (filter.location !== undefined) where.push(eq(t.instances.location, filter.location));
    return and(...where);
  }

  async listInstances(filter: { project?: string; location?: string } = {}): Promise<Instance[]> {
    return (await this.db.select().from(t.instances).where(this.instanceFilter(filter))
      .orderBy(asc(t.instances.project), asc(t.instances.name))).map(instanceFromRow);
  }

  /** As SQLite's: the request's config keys read in the database, one config and devices object per distinct value. */
  async listInstanceResources(after: { project: string; name: string } | null = null, limit = -1): Promise<InstanceResources[]> {
    const where = after === null ? sql`` : sql`where (project, name) > (${after.project}, ${after.name})`;
    const bound = limit < 0 ? sql`` : sql`limit ${limit}`;
    return this.resourcesOf(await this.db.execute(sql`select ${RESOURCE_COLUMNS} from instances ${where} order by project, name ${bound}`));
  }

  /** The instances on one member as the scheduler accounts them (a placement's check against the database). */
  async instanceResourcesOn(location: string): Promise<InstanceResources[]> {
    return this.resourcesOf(await this.db.execute(sql`select ${RESOURCE_COLUMNS} from instances where location = ${location}`));
  }

  private resourcesOf(result: { rows: Record<string, unknown>[] }): InstanceResources[] {
    const devicesOf = new Map<string, { devices: Instance["devices"]; configs: Map<string, Instance["config"]> }>();
    return result.rows.map((row) => {
      const devicesJson = row.devices as string;
      let shape = devicesOf.get(devicesJson);
      if (!shape) devicesOf.set(devicesJson, (shape = { devices: Object.freeze(JSON.parse(devicesJson) as Instance["devices"]), configs: new Map() }));
      const limits = RESOURCE_CONFIG_KEYS.map((_, i) => row[`k${i}`] as string | null);
      const limitsKey = JSON.stringify(limits);
      let config = shape.configs.get(limitsKey);
      if (!config) {
        const read: Record<string, string> = {};
        RESOURCE_CONFIG_KEYS.forEach((key, k) => { if (limits[k] !== null) read[key] = limits[k] as string; });
        shape.configs.set(limitsKey, (config = Object.freeze(read)));
      }
      return { project: row.project as string, name: row.name as string, location: row.location as string, config, devices: shape.devices };
    });
  }

  async getInstance(project: string, name: string): Promise<Instance | undefined> {
    const [row] = await this.db.select().from(t.instances).where(and(eq(t.instances.project, project), eq(t.instances.name, name)));
    return row ? instanceFromRow(row) : undefined;
  }

  async countInstances(filter: { project?: string; location?: string } = {}): Promise<number> {
    const [row] = await this.db.select({ n: count }).from(t.instances).where(this.instanceFilter(filter));
    return row?.n ?? 0;
  }

  async countInstancesByLocationAndStatus(): Promise<{ location: string; status: string; n: number }[]> {
    return this.db.select({ location: t.instances.location, status: t.instances.status, n: count })
      .from(t.instances).groupBy(t.instances.location, t.instances.status);
  }

  async insertInstance(instance: Instance): Promise<void> {
    await this.db.insert(t.instances).values({
      project: instance.project, name: instance.name, type: instance.type, architecture: instance.architecture,
      location: instance.location, status: instance.status, description: instance.description,
      config: instance.config, devices: instance.devices, profiles: instance.profiles,
      createdAt: Date.parse(instance.created_at), source: (instance.source ?? null) as Record<string, unknown> | null,
    });
  }

  async updateInstance(project: string, name: string, patch: InstancePatch): Promise<void> {
    const values: Partial<typeof t.instances.$inferInsert> = {};
    if (patch.config !== undefined) values.config = patch.config;
    if (patch.devices !== undefined) values.devices = patch.devices;
    if (patch.profiles !== undefined) values.profiles = patch.profiles;
    if (patch.description !== undefined) values.description = patch.description;
    if (patch.status !== undefined) values.status = patch.status;
    if (patch.location !== undefined) values.location = patch.location;
    if (Object.keys(values).length === 0) return;
    await this.db.update(t.instances).set(values).where(and(eq(t.instances.project, project), eq(t.instances.name, name)));
  }

  async setInstanceStatus(project: string, name: string, status: InstanceStatus): Promise<void> {
    await this.updateInstance(project, name, { status });
  }

  async deleteInstance(project: string, name: string): Promise<void> {
    await this.db.delete(t.instances).where(and(eq(t.instances.project, project), eq(t.instances.name, name)));
  }

  // ---- server config -------------------------------------------------------------------------

  async readConfig(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const row of await this.db.select().from(t.serverConfig)) out[row.key] = row.value;
    return out;
  }

  async writeConfig(changes: Record<string, string | null>): Promise<void> {
    await this.atomic(async (db) => {
      for (const [key, value] of Object.entries(changes)) {
        if (value === null) await db.delete(t.serverConfig).where(eq(t.serverConfig.key, key));
        else await db.insert(t.serverConfig).values({ key, value }).onConflictDoUpdate({ target: t.serverConfig.key, set: { value } });
      }
    });
  }

  // ---- tokens --------------------------------------------------------------------------------

  async insertToken(token: { id: string; hash: string; role: TokenRole; member: string | null; description: string }, now: number): Promise<void> {
    await this.db.insert(t.tokens).values({ ...token, createdAt: now, lastUsedAt: null });
  }

  async findTokenByHash(hash: string): Promise<TokenInfo | undefined> {
    const [row] = await this.db.select().from(t.tokens).where(eq(t.tokens.hash, hash));
    return row ? tokenFromRow(row) : undefined;
  }

  async listTokens(): Promise<TokenInfo[]> {
    return (await this.db.select().from(t.tokens).orderBy(asc(t.tokens.createdAt), asc(t.tokens.id))).map(tokenFromRow);
  }

  async touchToken(id: string, now: number): Promise<void> {
    await this.db.update(t.tokens).set({ lastUsedAt: now }).where(eq(t.tokens.id, id));
  }

  async deleteToken(id: string): Promise<boolean> {
    return ((await this.db.delete(t.tokens).where(eq(t.tokens.id, id))).rowCount ?? 0) > 0;
  }

  async countTokens(role?: TokenRole): Promise<number> {
    const q = this.db.select({ n: count }).from(t.tokens);
    const [row] = role ? await q.where(eq(t.tokens.role, role)) : await q;
    return row?.n ?? 0;
  }

  // ---- join tokens ---------------------------------------------------------------------------

  async insertJoinToken(token: { id: string; hash: string; member: string; expiresAt: number }, now: number): Promise<void> {
    await this.db.insert(t.joinTokens).values({ ...token, createdAt: now });
  }

  async findJoinTokenByHash(hash: string): Promise<JoinTokenInfo | undefined> {
    const [row] = await this.db.select().from(t.joinTokens).where(eq(t.joinTokens.hash, hash));
    return row ? joinTokenFromRow(row) : undefined;
  }

  async getJoinToken(id: string): Promise<JoinTokenInfo | undefined> {
    const [row] = await this.db.select().from(t.joinTokens).where(eq(t.joinTokens.id, id));
    return row ? joinTokenFromRow(row) : undefined;
  }

  async listJoinTokens(member?: string): Promise<JoinTokenInfo[]> {
    const q = this.db.select().from(t.joinTokens);
    const order = [asc(t.joinTokens.createdAt), asc(t.joinTokens.seq)] as const;
    const rows = member === undefined ? await q.orderBy(...order) : await q.where(eq(t.joinTokens.member, member)).orderBy(...order);
    return rows.map(joinTokenFromRow);
  }

  /** One conditional update: the row lock makes a concurrent second use re-check the condition and change nothing. */
  async useJoinToken(id: string, credentialId: string, now: number): Promise<boolean> {
    const result = await this.db.update(t.joinTokens).set({ usedAt: now, credentialId })
      .where(and(eq(t.joinTokens.id, id), isNull(t.joinTokens.usedAt), isNull(t.joinTokens.revokedAt), gt(t.joinTokens.expiresAt, now)));
    return result.rowCount === 1;
  }

  async revokeJoinTokens(which: { id: string } | { member: string }, reason: string, now: number): Promise<number> {
    const named = "id" in which ? eq(t.joinTokens.id, which.id) : eq(t.joinTokens.member, which.member);
    const result = await this.db.update(t.joinTokens).set({ revokedAt: now, revokedReason: reason })
      .where(and(named, isNull(t.joinTokens.usedAt), isNull(t.joinTokens.revokedAt)));
    return result.rowCount ?? 0;
  }

  // ---- trusted certificates and trust tokens ---------------------------------------------------

  async insertCertificate(cert: NewCertificate, now: number): Promise<void> {
    await this.db.insert(t.certificates).values({ ...cert, createdAt: now });
  }

  async getCertificate(fingerprint: string): Promise<CertificateInfo | undefined> {
    const [row] = await this.db.select().from(t.certificates).where(eq(t.certificates.fingerprint, fingerprint));
    return row ? certificateFromRow(row) : undefined;
  }

  async listCertificates(): Promise<CertificateInfo[]> {
    return (await this.db.select().from(t.certificates).orderBy(asc(t.certificates.createdAt), asc(t.certificates.fingerprint))).map(certificateFromRow);
  }

  async deleteCertificate(fingerprint: string): Promise<boolean> {
    const result = await this.db.delete(t.certificates).where(eq(t.certificates.fingerprint, fingerprint));
    return (result.rowCount ?? 0) > 0;
  }

  async insertTrustToken(token: NewTrustToken, now: number): Promise<void> {
    await this.db.insert(t.trustTokens).values({ ...token, createdAt: now });
  }

  async findTrustTokenByHash(hash: string): Promise<TrustTokenInfo | undefined> {
    const [row] = await this.db.select().from(t.trustTokens).where(eq(t.trustTokens.hash, hash));
    return row ? trustTokenFromRow(row) : undefined;
  }

  async getTrustToken(id: string): Promise<TrustTokenInfo | undefined> {
    const [row] = await this.db.select().from(t.trustTokens).where(eq(t.trustTokens.id, id));
    return row ? trustTokenFromRow(row) : undefined;
  }

  async listTrustTokens(): Promise<TrustTokenInfo[]> {
    return (await this.db.select().from(t.trustTokens).orderBy(asc(t.trustTokens.createdAt), asc(t.trustTokens.seq))).map(trustTokenFromRow);
  }

  /**
   * One conditional update, as useJoinToken: a concurrent second use waits on the row lock, then
   * re-checks the condition against the committed row (READ COMMITTED) and changes nothing.
   */
  async useTrustToken(id: string, fingerprint: string, now: number): Promise<boolean> {
    const result = await this.db.update(t.trustTokens).set({ usedAt: now, fingerprint })
      .where(and(eq(t.trustTokens.id, id), isNull(t.trustTokens.usedAt), isNull(t.trustTokens.revokedAt), gt(t.trustTokens.expiresAt, now)));
    return result.rowCount === 1;
  }

  async revokeTrustToken(id: string, now: number): Promise<boolean> {
    const result = await this.db.update(t.trustTokens).set({ revokedAt: now })
      .where(and(eq(t.trustTokens.id, id), isNull(t.trustTokens.usedAt), isNull(t.trustTokens.revokedAt)));
    return result.rowCount === 1;
  }

  // ---- operations ----------------------------------------------------------------------------

  async insertOperation(op: NewOperation, now: number): Promise<void> {
    await this.db.insert(t.operations).values({
      id: op.id, kind: op.kind, description: op.description, status: "Running", createdAt: now, updatedAt: now,
      resources: op.resources, metadata: op.metadata, input: op.input ?? null, mayCancel: op.mayCancel, err: "",
    });
  }

  async updateOperation(id: string, patch: { status?: OperationStatus; metadata?: Record<string, unknown>; err?: string; mayCancel?: boolean }, now: number): Promise<void> {
    await this.db.update(t.operations).set({ ...patch, updatedAt: now }).where(eq(t.operations.id, id));
  }

  async getOperation(id: string): Promise<OperationRecord | undefined> {
    const [row] = await this.db.select().from(t.operations).where(eq(t.operations.id, id));
    return row ? operationFromRow(row) : undefined;
  }

  async listOperations(statuses?: OperationStatus[]): Promise<OperationRecord[]> {
    const q = this.db.select().from(t.operations);
    const order = [asc(t.operations.createdAt), asc(t.operations.id)] as const;
    const rows = statuses ? await q.where(inArray(t.operations.status, statuses)).orderBy(...order) : await q.orderBy(...order);
    return rows.map(operationFromRow);
  }

  async countOperationsByStatus(): Promise<{ status: string; n: number }[]> {
    return this.db.select({ status: t.operations.status, n: count }).from(t.operations).groupBy(t.operations.status);
  }

  async pruneOperations(olderThan: number): Promise<number> {
    const result = await this.db.delete(t.operations)
      .where(and(inArray(t.operations.status, ["Success", "Failure", "Cancelled"]), sql`${t.operations.updatedAt} < ${olderThan}`));
    return result.rowCount ?? 0;
  }
}
