/**
 * The Store: every read and write of Berth's state, as an interface the services use. It is
 * asynchronous because a network database (PostgreSQL, for several replicas) needs it; the
 * embedded SQLite implementation (sqliteStore.ts) answers at once. Any implementation must pass
 * the conformance suite in test/store/store.case.ts.
 *
 * Consistency rules an implementation keeps:
 * - each method is atomic: a method that writes several rows (a member and its groups, a member
 *   and its tokens, several config keys) writes all of them or none;
 * - transaction(fn) runs fn against a Store whose reads see its own writes, and commits all of
 *   fn's writes or none; calls made outside fn while it runs are not part of it (they wait, or run
 *   beside it with the database's isolation) and never see its writes before it commits;
 * - an instance's project and location must exist (a member that hosts instances cannot be
 *   deleted); a group link names an existing member and group;
 * - names are unique where the schema says so: a second insert of the same key rejects with
 *   DuplicateKey;
 * - writes made inside asLeader(fence, …) — the leader's own work: the liveness sweep, healing, the
 *   operations it adopted — are fenced: each runs in a transaction that first reads the leader
 *   lease's epoch (FOR SHARE, so a new leader's takeover waits for it) and rejects with LeaseLost,
 *   writing nothing, when it is not the fence's. A store one process owns alone (SQLite) has no
 *   lease and no other leader: it checks nothing.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type {
  ClusterGroup, Instance, InstanceStatus, MemberLifecycle, MemberRecord, MemberResources, MemberStateReport,
  OperationStatus, Project, StoragePool, TokenInfo, TokenRole,
} from "../domain/types.ts";
import type { JoinTokenInfo } from "../domain/joinToken.ts";
import type { CertificateInfo, CertificateType, TrustTokenInfo } from "../domain/trustToken.ts";
import type { OperationRecord } from "./rows.ts";

export type { OperationRecord } from "./rows.ts";

/** One member's heartbeat, as MemberService writes them in batches. */
export interface Heartbeat {
  name: string;
  resources: MemberResources | null;
  state: MemberStateReport | null;
  /** epoch ms */
  at: number;
}

/** A write that would repeat a unique key (an instance name taken meanwhile): every implementation throws this. */
export class DuplicateKey extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DuplicateKey";
  }
}

/**
 * Runs an insert of a row that must exist (the "default" group or project on first start); one
 * that another replica starting at the same moment made first is as good.
 */
export async function insertIfAbsent(insert: () => Promise<unknown>): Promise<void> {
  try {
    await insert();
  } catch (err) {
    if (!(err instanceof DuplicateKey)) throw err;
  }
}

/**
 * The leadership a replica holds while it does the leader's work: the lease's epoch when it took
 * it, and what to do when a write finds the lease at another epoch (step down).
 */
export interface LeaderFence {
  epoch: number;
  lost(err: LeaseLost): void;
}

/** A write made as leader found that another replica took the leadership since (a newer epoch): nothing was written. */
export class LeaseLost extends Error {
  constructor(readonly epoch: number, readonly found: number | null) {
    super(`This replica's leadership (epoch ${epoch}) was taken over (the lease is at ${found === null ? "no epoch" : `epoch ${found}`}): a write it made as leader was refused`);
    this.name = "LeaseLost";
  }
}

const fences = new AsyncLocalStorage<LeaderFence>();

/**
 * Runs fn as the leader of `fence.epoch`: every store write made from it — through every await,
 * and from the timers it starts (AsyncLocalStorage follows them) — is fenced (see the rules above).
 */
export function asLeader<T>(fence: LeaderFence, fn: () => T): T {
  return fences.run(fence, fn);
}

/** Runs fn outside any leader's work: for callbacks that may run in a context the leader's work created, but are not its writes. */
export function outsideLeader<T>(fn: () => T): T {
  return fences.exit(fn);
}

/** The fence of the leader's work running now, if any (for store implementations). */
export function leaderFence(): LeaderFence | undefined {
  return fences.getStore();
}

/** A write that names a row that is gone (a member removed while an instance was placed on it): every implementation throws this. */
export class MissingReference extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MissingReference";
  }
}

export const TABLES = [
  "members", "cluster_groups", "group_members", "storage_pools", "projects", "instances", "server_config", "tokens", "operations", "join_tokens", "certificates", "trust_tokens",
] as const;
export type StoreTable = (typeof TABLES)[number];

export interface NewMember {
  server_name: string;
  url: string;
  architecture: string;
  failure_domain: string;
  description: string;
  roles: string[];
  config: Record<string, string>;
  groups: string[];
  resources: MemberResources | null;
}

export type PoolPatch = Partial<Pick<StoragePool, "description" | "config" | "status" | "defined_on">>;
export type MemberPatch = Partial<Pick<MemberRecord, "url" | "failure_domain" | "description" | "roles" | "config" | "architecture">>;
export type InstancePatch = Partial<Pick<Instance, "config" | "devices" | "profiles" | "description" | "status" | "location">>;

/**
 * An instance as the scheduler accounts it: where it is, and what its resource request is read
 * from (config holds only RESOURCE_CONFIG_KEYS). Within one read, instances that ask alike may
 * share one frozen config and one frozen devices object.
 */
export type InstanceResources = Pick<Instance, "project" | "name" | "location" | "config" | "devices">;

export interface NewOperation {
  id: string;
  kind: string;
  description: string;
  resources: Record<string, string[]>;
  metadata: Record<string, unknown>;
  input: unknown;
  mayCancel: boolean;
}

export interface OperationPatch {
  status?: OperationStatus;
  metadata?: Record<string, unknown>;
  err?: string;
  mayCancel?: boolean;
}

export interface NewCertificate {
  fingerprint: string;
  name: string;
  type: CertificateType;
  /** PEM. */
  certificate: string;
}

export interface NewTrustToken {
  id: string;
  /** SHA-256 of the secret. */
  hash: string;
  name: string;
  type: CertificateType;
  expiresAt: number;
}

export interface Store {
  /** Runs fn in one transaction: every write it makes through `tx` lands, or none (fn threw). */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** Every row of a table as stored, for diagnostics and tests that check nothing was written. */
  dumpTable(table: StoreTable): Promise<unknown[]>;

  // members
  listMembers(): Promise<MemberRecord[]>;
  getMember(name: string): Promise<MemberRecord | undefined>;
  /** Inserts the member (lifecycle CREATED, no heartbeat yet) with its group links. */
  insertMember(member: NewMember, now: number): Promise<void>;
  updateMember(name: string, patch: MemberPatch): Promise<void>;
  setMemberLifecycle(name: string, state: MemberLifecycle): Promise<void>;
  /**
   * For each heartbeat, in one transaction: last_heartbeat = at, and the resources and state report
   * when given (null keeps the stored one). A member that is gone is skipped.
   */
  recordHeartbeats(beats: readonly Heartbeat[]): Promise<void>;
  /** Deletes a member, its group links and the agent tokens bound to it. */
  deleteMember(name: string): Promise<void>;

  // cluster groups
  listGroups(): Promise<ClusterGroup[]>;
  groupExists(name: string): Promise<boolean>;
  getGroup(name: string): Promise<ClusterGroup | undefined>;
  insertGroup(name: string, description: string, members: string[]): Promise<void>;
  /** undefined leaves a field as it is; members replaces the whole list. */
  updateGroup(name: string, description: string | undefined, members: string[] | undefined): Promise<void>;
  deleteGroup(name: string): Promise<void>;
  /** The groups a member belongs to, by name. */
  groupsOfMember(member: string): Promise<string[]>;
  /** Replaces the groups a member belongs to. */
  setMemberGroups(member: string, groups: string[]): Promise<void>;

  // storage pools and projects
  listPools(): Promise<StoragePool[]>;
  getPool(name: string): Promise<StoragePool | undefined>;
  insertPool(pool: StoragePool): Promise<void>;
  /** Sets the given fields (a pool's status and the members a Pending pool is defined on included). */
  updatePool(name: string, patch: PoolPatch): Promise<void>;
  deletePool(name: string): Promise<void>;
  listProjects(): Promise<Project[]>;
  getProject(name: string): Promise<Project | undefined>;
  insertProject(project: Project): Promise<void>;
  updateProject(name: string, description: string, config: Record<string, string>): Promise<void>;
  deleteProject(name: string): Promise<void>;

  // instances
  /** By (project, name). */
  listInstances(filter?: { project?: string; location?: string }): Promise<Instance[]>;
  /** Instances as the scheduler accounts them, by (project, name), `limit` (-1: all) after `after`. */
  listInstanceResources(after?: { project: string; name: string } | null, limit?: number): Promise<InstanceResources[]>;
  /** The instances on one member as the scheduler accounts them (a placement's check against the stored truth). */
  instanceResourcesOn(location: string): Promise<InstanceResources[]>;
  /**
   * Inside a transaction: holds the member's row until it ends, so that placements on that member
   * from every replica take turns (PostgreSQL: SELECT … FOR UPDATE; SQLite's transaction is one
   * writer already).
   */
  lockMember(name: string): Promise<void>;
  getInstance(project: string, name: string): Promise<Instance | undefined>;
  countInstances(filter?: { project?: string; location?: string }): Promise<number>;
  countInstancesByLocationAndStatus(): Promise<{ location: string; status: string; n: number }[]>;
  insertInstance(instance: Instance): Promise<void>;
  updateInstance(project: string, name: string, patch: InstancePatch): Promise<void>;
  setInstanceStatus(project: string, name: string, status: InstanceStatus): Promise<void>;
  deleteInstance(project: string, name: string): Promise<void>;

  // server config
  readConfig(): Promise<Record<string, string>>;
  /** Writes the given keys (null removes a key), all or none. */
  writeConfig(changes: Record<string, string | null>): Promise<void>;

  // tokens
  insertToken(token: { id: string; hash: string; role: TokenRole; member: string | null; description: string }, now: number): Promise<void>;
  findTokenByHash(hash: string): Promise<TokenInfo | undefined>;
  listTokens(): Promise<TokenInfo[]>;
  touchToken(id: string, now: number): Promise<void>;
  /** false when there was no such token. */
  deleteToken(id: string): Promise<boolean>;
  countTokens(role?: TokenRole): Promise<number>;

  // join tokens: single-use secrets a new member's agent trades for its agent token
  insertJoinToken(token: { id: string; hash: string; member: string; expiresAt: number }, now: number): Promise<void>;
  findJoinTokenByHash(hash: string): Promise<JoinTokenInfo | undefined>;
  getJoinToken(id: string): Promise<JoinTokenInfo | undefined>;
  /** In the order they were made; only one member's when given. */
  listJoinTokens(member?: string): Promise<JoinTokenInfo[]>;
  /**
   * Marks a join token used (traded for the agent token credentialId) if, at `now`, it is unused,
   * not revoked and not expired; false otherwise. Of two concurrent uses exactly one gets true.
   */
  useJoinToken(id: string, credentialId: string, now: number): Promise<boolean>;
  /** Revokes the join tokens named (by id, or every one of a member) that are neither used nor revoked yet; returns how many. */
  revokeJoinTokens(which: { id: string } | { member: string }, reason: string, now: number): Promise<number>;

  // trusted client certificates (a request presenting one acts as admin)
  /** DuplicateKey when the fingerprint is trusted already. */
  insertCertificate(cert: NewCertificate, now: number): Promise<void>;
  getCertificate(fingerprint: string): Promise<CertificateInfo | undefined>;
  /** In the order they were added. */
  listCertificates(): Promise<CertificateInfo[]>;
  /** false when there was no such certificate. */
  deleteCertificate(fingerprint: string): Promise<boolean>;

  // trust tokens: single-use secrets that register the client certificate presented with them
  insertTrustToken(token: NewTrustToken, now: number): Promise<void>;
  findTrustTokenByHash(hash: string): Promise<TrustTokenInfo | undefined>;
  getTrustToken(id: string): Promise<TrustTokenInfo | undefined>;
  /** In the order they were made. */
  listTrustTokens(): Promise<TrustTokenInfo[]>;
  /**
   * Marks a trust token used (it registered the certificate `fingerprint`) if, at `now`, it is
   * unused, not revoked and not expired; false otherwise. Of two concurrent uses exactly one gets true.
   */
  useTrustToken(id: string, fingerprint: string, now: number): Promise<boolean>;
  /** Revokes an unused, unrevoked trust token; false when there was nothing to revoke. */
  revokeTrustToken(id: string, now: number): Promise<boolean>;

  // operations
  insertOperation(op: NewOperation, now: number): Promise<void>;
  updateOperation(id: string, patch: OperationPatch, now: number): Promise<void>;
  getOperation(id: string): Promise<OperationRecord | undefined>;
  /** By creation time; only the given statuses when given. */
  listOperations(statuses?: OperationStatus[]): Promise<OperationRecord[]>;
  countOperationsByStatus(): Promise<{ status: string; n: number }[]>;
  /** Forgets finished operations last updated before `olderThan`; returns how many. */
  pruneOperations(olderThan: number): Promise<number>;
}

/** The Store's data methods: every method but transaction and close. */
export type StoreMethod = Exclude<keyof Store, "transaction" | "close">;

/** Every data method of the Store interface, which each store wraps (connections, errors, fencing). */
export const STORE_METHODS = [
  "dumpTable",
  "listMembers", "getMember", "insertMember", "updateMember", "setMemberLifecycle", "recordHeartbeats", "deleteMember",
  "listGroups", "groupExists", "getGroup", "insertGroup", "updateGroup", "deleteGroup", "groupsOfMember", "setMemberGroups",
  "listPools", "getPool", "insertPool", "updatePool", "deletePool",
  "listProjects", "getProject", "insertProject", "updateProject", "deleteProject",
  "listInstances", "listInstanceResources", "instanceResourcesOn", "lockMember", "getInstance", "countInstances", "countInstancesByLocationAndStatus",
  "insertInstance", "updateInstance", "setInstanceStatus", "deleteInstance",
  "readConfig", "writeConfig",
  "insertToken", "findTokenByHash", "listTokens", "touchToken", "deleteToken", "countTokens",
  "insertJoinToken", "findJoinTokenByHash", "getJoinToken", "listJoinTokens", "useJoinToken", "revokeJoinTokens",
  "insertCertificate", "getCertificate", "listCertificates", "deleteCertificate",
  "insertTrustToken", "findTrustTokenByHash", "getTrustToken", "listTrustTokens", "useTrustToken", "revokeTrustToken",
  "insertOperation", "updateOperation", "getOperation", "listOperations", "countOperationsByStatus", "pruneOperations",
] as const satisfies readonly StoreMethod[];
// Compile-time proof that the list is complete.
const complete: Exclude<StoreMethod, (typeof STORE_METHODS)[number]> extends never ? true : never = true;
void complete;

/** An entry as a replica appends it to the feed. */
export interface NewFeedEntry {
  kind: FeedEntry["kind"];
  body: unknown;
}

/** One entry of the replicas' shared feed: a committed change or an event, as its writer published it. */
export interface FeedEntry {
  id: number;
  /** The replica that wrote it. */
  origin: string;
  kind: "change" | "event";
  body: unknown;
}

export interface ReplicaInfo {
  id: string;
  urls: string[];
  /** Epoch ms of its last announce, on the database's clock. */
  lastSeen: number;
}

/**
 * What several replicas on one database share beyond the tables (the PostgreSQL store has one; the
 * embedded SQLite store, one process, has none). Implemented over one connection of its own: the
 * LISTEN, the leadership and the operation claims are that session's, so they end with the
 * process, however it dies (kill -9 closes the socket and the database lets go at once).
 */
export interface ReplicaChannel {
  /**
   * Appends entries (rows, in this order) and notifies every replica of the last id (NOTIFY carries
   * only an id); returns it. Ids become visible in the order they were taken: a reader of
   * `after(applied)` never passes over an entry that commits later. Fenced inside asLeader.
   */
  append(origin: string, entries: readonly NewFeedEntry[]): Promise<number>;
  /** Entries after `id`, oldest first, at most `limit`. */
  after(id: number, limit: number): Promise<FeedEntry[]>;
  /** The newest entry's id (0: none). */
  lastId(): Promise<number>;
  /** Forgets entries older than this many ms (the database's clock); returns how many. Fenced inside asLeader. */
  pruneFeed(olderThanMs: number): Promise<number>;
  /** Calls onId for each notified id; onLost when the session is lost (leadership and claims are gone then). */
  listen(onId: (id: number) => void, onLost: (err: Error) => void): Promise<void>;
  /**
   * Takes, or confirms, the leadership; returns the lease's epoch while held, null when another
   * replica holds it (also when the lease moved to another epoch since this one took it).
   */
  tryLead(holder: string): Promise<number | null>;
  /** Lets go of the leadership (a write made as leader was refused: another replica leads). */
  resign(): Promise<void>;
  /** The current leader's epoch and name, as recorded when it took the lease. */
  lease(): Promise<{ holder: string; epoch: number } | null>;
  /** Claims an operation for this process (false: a live replica runs it); a claim ends with the process. */
  claimOperation(id: string): Promise<boolean>;
  releaseOperation(id: string): Promise<void>;
  /** Records this replica's addresses and that it is alive. */
  announce(id: string, urls: string[]): Promise<void>;
  /** Replicas seen within `withinMs` (the database's clock), by id. */
  listReplicas(withinMs: number): Promise<ReplicaInfo[]>;
  /** The shared value of `name`: the first replica to ask stores make()'s; every other gets that one. */
  sharedValue(name: string, make: () => Promise<string>): Promise<string>;
  close(): Promise<void>;
}
