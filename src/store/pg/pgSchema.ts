/**
 * The PostgreSQL schema: src/store/schema.ts table for table, column for column (a column added
 * there is added here, then `npm run db:generate:pg`). Differences, each for a reason:
 * - names and keys are `text COLLATE "C"`: ordered byte-wise, as SQLite orders them, whatever the
 *   database's locale (lists and keyset paging then agree between the two stores);
 * - epoch milliseconds are bigint (read as numbers), booleans are boolean;
 * - JSON columns are `json` (the text as written, key order kept, as SQLite keeps it);
 * - join_tokens and trust_tokens have `seq`, the insertion order SQLite's rowid gives;
 * - tables SQLite does not need: `changes` (the change feed other replicas follow), `leases`
 *   (which replica runs the background work, and its epoch), `replicas` (each replica's addresses)
 *   and `shared_values` (what every replica must agree on, such as the TLS certificate).
 */
import { bigint, bigserial, boolean, customType, index, json, pgTable, primaryKey, text, uniqueIndex, integer } from "drizzle-orm/pg-core";

/** Text ordered byte-wise (SQLite's BINARY collation). */
const key = customType<{ data: string; driverData: string }>({ dataType: () => 'text COLLATE "C"' });
const ms = (name: string) => bigint(name, { mode: "number" });
const jsonOf = <T>(name: string) => json(name).$type<T>();

export const members = pgTable("members", {
  name: key("name").primaryKey(),
  url: text("url").notNull().default(""),
  architecture: text("architecture").notNull(),
  failureDomain: text("failure_domain").notNull().default("default"),
  description: text("description").notNull().default(""),
  roles: jsonOf<string[]>("roles").notNull(),
  config: jsonOf<Record<string, string>>("config").notNull(),
  state: text("state").notNull().default("CREATED"),
  resources: jsonOf<unknown>("resources"),
  memberState: jsonOf<unknown>("member_state"),
  lastHeartbeat: ms("last_heartbeat"),
  createdAt: ms("created_at").notNull(),
});

export const clusterGroups = pgTable("cluster_groups", {
  name: key("name").primaryKey(),
  description: text("description").notNull().default(""),
});

export const groupMembers = pgTable(
  "group_members",
  {
    group: key("group_name").notNull().references(() => clusterGroups.name, { onDelete: "cascade" }),
    member: key("member_name").notNull().references(() => members.name, { onDelete: "cascade" }),
  },
  (t) => [primaryKey({ columns: [t.group, t.member] }), index("group_members_member").on(t.member)],
);

export const storagePools = pgTable("storage_pools", {
  name: key("name").primaryKey(),
  driver: text("driver").notNull(),
  description: text("description").notNull().default(""),
  config: jsonOf<Record<string, string>>("config").notNull(),
  status: text("status").notNull().default("Created"),
  definedOn: jsonOf<string[]>("defined_on").notNull().default([]),
});

export const projects = pgTable("projects", {
  name: key("name").primaryKey(),
  description: text("description").notNull().default(""),
  config: jsonOf<Record<string, string>>("config").notNull(),
});

export const instances = pgTable(
  "instances",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    project: key("project").notNull().references(() => projects.name),
    name: key("name").notNull(),
    type: text("type").notNull(),
    architecture: text("architecture").notNull(),
    location: key("location").notNull().references(() => members.name),
    status: text("status").notNull(),
    description: text("description").notNull().default(""),
    config: jsonOf<Record<string, string>>("config").notNull(),
    devices: jsonOf<Record<string, Record<string, string>>>("devices").notNull(),
    profiles: jsonOf<string[]>("profiles").notNull(),
    createdAt: ms("created_at").notNull(),
    /** LXD's create `source` (image alias or fingerprint), null when none was given. */
    source: jsonOf<Record<string, unknown>>("source"),
  },
  (t) => [uniqueIndex("instances_project_name").on(t.project, t.name), index("instances_location").on(t.location)],
);

export const serverConfig = pgTable("server_config", {
  key: key("key").primaryKey(),
  value: text("value").notNull(),
});

export const tokens = pgTable("tokens", {
  id: key("id").primaryKey(),
  hash: text("hash").notNull().unique(),
  role: text("role").notNull(),
  member: text("member"),
  description: text("description").notNull().default(""),
  createdAt: ms("created_at").notNull(),
  lastUsedAt: ms("last_used_at"),
});

export const operations = pgTable(
  "operations",
  {
    id: key("id").primaryKey(),
    kind: text("kind").notNull(),
    description: text("description").notNull(),
    status: text("status").notNull(),
    createdAt: ms("created_at").notNull(),
    updatedAt: ms("updated_at").notNull(),
    resources: jsonOf<Record<string, string[]>>("resources").notNull(),
    metadata: jsonOf<Record<string, unknown>>("metadata").notNull(),
    input: jsonOf<unknown>("input").notNull(),
    mayCancel: boolean("may_cancel").notNull().default(false),
    err: text("err").notNull().default(""),
  },
  (t) => [index("operations_status").on(t.status)],
);

export const joinTokens = pgTable(
  "join_tokens",
  {
    id: key("id").primaryKey(),
    seq: bigserial("seq", { mode: "number" }).notNull(),
    hash: text("hash").notNull().unique(),
    member: key("member").notNull(),
    createdAt: ms("created_at").notNull(),
    expiresAt: ms("expires_at").notNull(),
    usedAt: ms("used_at"),
    credentialId: text("credential_id"),
    revokedAt: ms("revoked_at"),
    revokedReason: text("revoked_reason").notNull().default(""),
  },
  (t) => [index("join_tokens_member").on(t.member)],
);

/**
 * Trusted client certificates (LXD's trust store): a request over HTTPS presenting one of these
 * acts as admin. Added by a trust token exchange (`lxc remote add`) or by an admin directly.
 */
export const certificates = pgTable("certificates", {
  fingerprint: key("fingerprint").primaryKey(), // SHA-256 of the DER, lowercase hex
  name: text("name").notNull(),
  type: text("type").notNull(),
  certificate: text("certificate").notNull(), // PEM
  createdAt: ms("created_at").notNull(),
});

/**
 * Trust tokens (`berth trust add`, `lxc config trust add`): single-use secrets, stored as SHA-256
 * hashes, that register the client certificate they are presented with. Rows stay after use,
 * expiry or revocation, so that a second try is told which.
 */
export const trustTokens = pgTable("trust_tokens", {
  id: key("id").primaryKey(),
  seq: bigserial("seq", { mode: "number" }).notNull(),
  hash: text("hash").notNull().unique(),
  name: text("name").notNull(),
  type: text("type").notNull(),
  createdAt: ms("created_at").notNull(),
  expiresAt: ms("expires_at").notNull(),
  usedAt: ms("used_at"),
  /** The certificate it registered. */
  fingerprint: text("fingerprint"),
  revokedAt: ms("revoked_at"),
});

/**
 * The change feed: one row per committed change of what replicas keep in memory (a member, an
 * instance, a group, the config, ...) or per event; NOTIFY carries only the id (payloads are
 * limited to 8,000 bytes), a replica reads the rows after the last id it applied.
 */
export const changes = pgTable("changes", {
  id: bigserial("id", { mode: "number" }).primaryKey(),
  /** The replica that wrote it (it applied the change itself already). */
  origin: text("origin").notNull(),
  kind: text("kind").notNull(),
  body: jsonOf<unknown>("body").notNull(),
  createdAt: ms("created_at").notNull(),
});

/** A lease row per kind of background work: who holds it until when, and its epoch (only grows). */
export const leases = pgTable("leases", {
  name: key("name").primaryKey(),
  holder: text("holder").notNull(),
  epoch: bigint("epoch", { mode: "number" }).notNull(),
  expiresAt: ms("expires_at").notNull(),
});

/** Each replica's addresses and when it last said it was alive (the database's clock). */
export const replicas = pgTable("replicas", {
  id: key("id").primaryKey(),
  urls: jsonOf<string[]>("urls").notNull(),
  lastSeen: ms("last_seen").notNull(),
});

/** Values every replica must share, written once by the first replica that needs one (the TLS certificate). */
export const sharedValues = pgTable("shared_values", {
  name: key("name").primaryKey(),
  value: text("value").notNull(),
});
