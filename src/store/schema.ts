/** The drizzle schema: one table per domain object, JSON columns for maps and lists. */
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

const json = <T>(name: string) => text(name, { mode: "json" }).$type<T>();

export const members = sqliteTable("members", {
  name: text("name").primaryKey(),
  url: text("url").notNull().default(""),
  architecture: text("architecture").notNull(),
  failureDomain: text("failure_domain").notNull().default("default"),
  description: text("description").notNull().default(""),
  roles: json<string[]>("roles").notNull(),
  config: json<Record<string, string>>("config").notNull(),
  state: text("state").notNull().default("CREATED"),
  resources: json<unknown>("resources"),
  memberState: json<unknown>("member_state"),
  lastHeartbeat: integer("last_heartbeat"), // epoch ms
  createdAt: integer("created_at").notNull(),
});

export const clusterGroups = sqliteTable("cluster_groups", {
  name: text("name").primaryKey(),
  description: text("description").notNull().default(""),
});

export const groupMembers = sqliteTable(
  "group_members",
  {
    group: text("group_name").notNull().references(() => clusterGroups.name, { onDelete: "cascade" }),
    member: text("member_name").notNull().references(() => members.name, { onDelete: "cascade" }),
  },
  (t) => [primaryKey({ columns: [t.group, t.member] }), index("group_members_member").on(t.member)],
);

export const storagePools = sqliteTable("storage_pools", {
  name: text("name").primaryKey(),
  driver: text("driver").notNull(),
  description: text("description").notNull().default(""),
  config: json<Record<string, string>>("config").notNull(),
  status: text("status").notNull().default("Created"),
  definedOn: json<string[]>("defined_on").notNull().default([]),
});

export const projects = sqliteTable("projects", {
  name: text("name").primaryKey(),
  description: text("description").notNull().default(""),
  config: json<Record<string, string>>("config").notNull(),
});

export const instances = sqliteTable(
  "instances",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    project: text("project").notNull().references(() => projects.name),
    name: text("name").notNull(),
    type: text("type").notNull(),
    architecture: text("architecture").notNull(),
    location: text("location").notNull().references(() => members.name),
    status: text("status").notNull(),
    description: text("description").notNull().default(""),
    config: json<Record<string, string>>("config").notNull(),
    devices: json<Record<string, Record<string, string>>>("devices").notNull(),
    profiles: json<string[]>("profiles").notNull(),
    createdAt: integer("created_at").notNull(),
    /** LXD's create `source` (image alias or fingerprint), null when none was given. */
    source: json<Record<string, unknown>>("source"),
  },
  (t) => [uniqueIndex("instances_project_name").on(t.project, t.name), index("instances_location").on(t.location)],
);

export const serverConfig = sqliteTable("server_config", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

export const tokens = sqliteTable("tokens", {
  id: text("id").primaryKey(),
  hash: text("hash").notNull().unique(),
  role: text("role").notNull(),
  member: text("member"),
  description: text("description").notNull().default(""),
  createdAt: integer("created_at").notNull(),
  lastUsedAt: integer("last_used_at"),
});

export const operations = sqliteTable(
  "operations",
  {
    id: text("id").primaryKey(),
    kind: text("kind").notNull(), // what resumes it: "relocate", "evacuate", "restore", ...
    description: text("description").notNull(),
    status: text("status").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    resources: json<Record<string, string[]>>("resources").notNull(),
    metadata: json<Record<string, unknown>>("metadata").notNull(),
    input: json<unknown>("input").notNull(), // what the operation was asked to do, for resuming
    mayCancel: integer("may_cancel", { mode: "boolean" }).notNull().default(false),
    err: text("err").notNull().default(""),
  },
  (t) => [index("operations_status").on(t.status)],
);

/**
 * Join tokens (`berth cluster add`): single-use secrets, stored as SHA-256 hashes, that a new
 * member's agent trades for its agent token. Rows stay after use, expiry or revocation, so that a
 * second try is told which; `member` is a plain name (no foreign key): a removed member's tokens
 * stay, revoked.
 */
export const joinTokens = sqliteTable(
  "join_tokens",
  {
    id: text("id").primaryKey(),
    hash: text("hash").notNull().unique(),
    member: text("member").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
    /** The agent token it was traded for. */
    credentialId: text("credential_id"),
    revokedAt: integer("revoked_at"),
    revokedReason: text("revoked_reason").notNull().default(""),
  },
  (t) => [index("join_tokens_member").on(t.member)],
);

/**
 * Trusted client certificates (LXD's trust store): a request over HTTPS presenting one of these
 * acts as admin. Added by a trust token exchange (`lxc remote add`) or by an admin directly.
 */
export const certificates = sqliteTable("certificates", {
  fingerprint: text("fingerprint").primaryKey(), // SHA-256 of the DER, lowercase hex
  name: text("name").notNull(),
  type: text("type").notNull(),
  certificate: text("certificate").notNull(), // PEM
  createdAt: integer("created_at").notNull(),
});

/**
 * Trust tokens (`berth trust add`, `lxc config trust add`): single-use secrets, stored as SHA-256
 * hashes, that register the client certificate they are presented with. Rows stay after use,
 * expiry or revocation, so that a second try is told which.
 */
export const trustTokens = sqliteTable("trust_tokens", {
  id: text("id").primaryKey(),
  hash: text("hash").notNull().unique(),
  name: text("name").notNull(),
  type: text("type").notNull(),
  createdAt: integer("created_at").notNull(),
  expiresAt: integer("expires_at").notNull(),
  usedAt: integer("used_at"),
  /** The certificate it registered. */
  fingerprint: text("fingerprint"),
  revokedAt: integer("revoked_at"),
});
