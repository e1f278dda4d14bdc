/** zod schemas for every request body: strict (unknown fields are a 400), bounded sizes. */
import { z } from "zod";
import { EVACUATE_MODES } from "../domain/instanceConfig.ts";
import type { InstanceSource } from "../domain/types.ts";
import { devicesSchema, nameList, stringMap } from "./validation.ts";

/** LXD clients (Go) send an empty map or list as null: null reads as "not given". */
const orUnset = <T extends z.ZodType>(schema: T) => schema.nullish().transform((v) => v ?? undefined);
const configMap = orUnset(stringMap);
const names = orUnset(nameList);

const bytes = z.number().int().nonnegative().max(2 ** 62);
const count = z.number().nonnegative().max(1e9);

const poolSpace = z.strictObject({ total: bytes, used: bytes.default(0) });
/** A reported pool: its space and, from an lxd agent, its LXD storage driver. */
const reportedPool = poolSpace.extend({ driver: z.string().regex(/^[a-z0-9_-]{1,32}$/, "must be a storage driver name such as dir or ceph").optional() });

/** Resources as reported or declared; parts left out take empty defaults. */
export const resourcesSchema = z.strictObject({
  cpu: z.strictObject({ architecture: z.string().max(64).optional(), total: count }).optional(),
  memory: z.strictObject({ total: bytes, used: bytes.default(0) }).optional(),
  storage: z.strictObject({ pools: z.record(z.string().max(64), reportedPool) }).optional(),
  gpu: z.strictObject({
    total: z.number().int().nonnegative().max(1024).optional(),
    cards: z.array(z.strictObject({ vendor: z.string().max(256).default(""), model: z.string().max(256).default(""), memory: bytes.default(0) })).max(1024).optional(),
  }).optional(),
  load: z.strictObject({
    average_1m: count.default(0), average_5m: count.default(0), average_15m: count.default(0), processes: count.default(0),
  }).optional(),
});
export type ResourcesInput = z.infer<typeof resourcesSchema>;

export const memberStateSchema = z.strictObject({
  sysinfo: z.strictObject({
    uptime: count.default(0),
    load_averages: z.array(count).max(3).default([0, 0, 0]),
    total_ram: bytes.default(0),
    free_ram: bytes.default(0),
    processes: count.default(0),
    logical_cpus: count.default(0),
  }),
  storage_pools: z.record(z.string().max(64), z.strictObject({ space: poolSpace })).default({}),
});

const arch = z.string().regex(/^[a-z0-9_]{1,32}$/, "must be an architecture name such as x86_64 or aarch64");

export const memberCreateSchema = z.strictObject({
  server_name: z.string().max(256),
  url: z.string().max(2048).optional(),
  architecture: arch.optional(),
  failure_domain: z.string().min(1).max(256).optional(),
  description: z.string().max(4096).optional(),
  roles: names,
  groups: names,
  config: configMap,
  resources: resourcesSchema.optional(),
  /** Make a join token for the member's agent (returned in join_token); without it the member is a record kept alive by heartbeats. */
  join: z.boolean().optional(),
  /** How long the join token stays usable: "30m", "3h" (default), "7d". */
  expiry: z.string().max(32).optional(),
});

export const memberUpdateSchema = memberCreateSchema.omit({ server_name: true, resources: true, join: true, expiry: true }).extend({
  // LXD clients send the whole object back on PUT: read-only fields are accepted and ignored.
  server_name: z.string().max(256).optional(),
  status: z.string().max(64).optional(),
  message: z.string().max(4096).optional(),
  last_heartbeat: z.string().max(64).nullable().optional(),
  resources: z.unknown().optional(),
  agent: z.unknown().optional(),
  database: z.boolean().optional(),
});

export const heartbeatSchema = z.strictObject({
  resources: resourcesSchema.optional(),
  state: memberStateSchema.optional(),
  /** Sent by a berth agent: what it is, and the complete list of instances it observes. */
  agent: z.strictObject({ driver: z.string().max(64), version: z.string().max(64) }).optional(),
  instances: z.array(z.strictObject({
    name: z.string().max(256), project: z.string().max(256).default("default"), status: z.enum(["Running", "Stopped", "Error"]),
    pid: z.number().int().min(0).max(2 ** 31).optional(), reason: z.string().max(4096).optional(),
  })).max(100_000).optional(),
  /** The healing threshold (s) the agent's fence lease is in force with (docs/healing.md). */
  healing_threshold: z.number().min(0).max(10 * 365 * 86400).optional(),
});

export type HeartbeatInput = z.infer<typeof heartbeatSchema>;

export const agentAnswerSchema = z.strictObject({
  log: z.string().max(1024 * 1024).optional(),
  /** migrate-out: where the target's LXD pulls the instance from. */
  offer: z.strictObject({
    operation: z.string().regex(/^https:\/\/[^\s]+\/1\.0\/operations\/[^\s]+$/, "must be https://ADDRESS/1.0/operations/ID").max(2048),
    certificate: z.string().max(64 * 1024),
    secrets: z.record(z.string().max(64), z.string().max(1024)),
    architecture: z.string().max(64),
  }).optional(),
  /** The request failed on the agent: why. */
  error: z.string().max(64 * 1024).optional(),
});

export const memberStateActionSchema = z.strictObject({
  action: z.enum(["evacuate", "restore"]),
  // LXD clients send mode "" for the default.
  mode: z.enum([...EVACUATE_MODES, "heal", "skip", ""]).optional().transform((m) => m || undefined),
  dry_run: z.boolean().optional(),
});

export const groupCreateSchema = z.strictObject({
  name: z.string().max(256),
  description: z.string().max(4096).optional(),
  members: names,
});
export const groupUpdateSchema = groupCreateSchema.omit({ name: true }).extend({ name: z.string().max(256).optional() });

export const poolCreateSchema = z.strictObject({
  name: z.string().max(256),
  driver: z.string().max(64),
  description: z.string().max(4096).optional(),
  config: configMap,
});
export const poolUpdateSchema = z.strictObject({
  name: z.string().max(256).optional(),
  driver: z.string().max(64).optional(),
  description: z.string().max(4096).optional(),
  config: configMap,
  // Read-only fields an LXD client echoes back (lxc storage edit); ignored.
  status: z.string().max(64).optional(),
  locations: z.array(z.string().max(256)).max(100_000).nullish(),
  used_by: z.array(z.string().max(4096)).max(1_000_000).nullish(),
});

export const projectCreateSchema = z.strictObject({
  name: z.string().max(256),
  description: z.string().max(4096).optional(),
  config: configMap,
});
export const projectUpdateSchema = projectCreateSchema.omit({ name: true }).extend({
  name: z.string().max(256).optional(),
  used_by: z.array(z.string().max(4096)).max(1_000_000).nullish(),
});

const sourceText = z.string().max(1024);

/** The part of LXD's create source Berth keeps: none for an empty instance, else the image's ways of naming it. */
function keptSource(source: { type?: string; alias?: string; fingerprint?: string; server?: string; protocol?: string; properties?: Record<string, string> } | undefined): InstanceSource | undefined {
  if (!source) return undefined;
  const kept: InstanceSource = { type: source.type === "image" || source.alias || source.fingerprint || source.properties ? "image" : "none" };
  if (kept.type === "none") return undefined;
  for (const key of ["alias", "fingerprint", "server", "protocol"] as const) if (source[key]) kept[key] = source[key];
  if (source.properties && Object.keys(source.properties).length > 0) kept.properties = source.properties;
  return kept;
}

/** LXD clients always send these; Berth has neither ephemeral nor stateful instances, so only false. */
const notSupported = (what: string) => z.boolean().optional().refine((v) => v !== true, `Berth has no ${what} instances (only false)`);
const instanceType = z.enum(["container", "virtual-machine", ""]).optional().transform((t) => t || undefined);
const devices = orUnset(devicesSchema);

export const instanceCreateSchema = z.strictObject({
  name: z.string().max(256),
  type: instanceType,
  // "" (what LXD clients send when none was asked for) means the chosen member's.
  architecture: z.union([arch, z.literal("")]).optional().transform((a) => a || undefined),
  description: z.string().max(4096).optional(),
  config: configMap,
  devices,
  profiles: names,
  start: z.boolean().optional(),
  ephemeral: notSupported("ephemeral"),
  stateful: notSupported("stateful"),
  // LXD's cloud instance types (t2.micro, c2-m4) are not mapped: ask with limits.cpu and limits.memory.
  instance_type: z.literal("", { error: "instance types are not supported; set config limits.cpu and limits.memory" }).optional(),
  // An empty instance (`lxc init --empty`) or an image source is fine: the image's alias,
  // fingerprint, server, protocol and properties are kept with the instance (an lxd agent creates
  // it from them); other fields LXD clients send are ignored. Copying or migrating from another
  // server is not Berth's.
  source: z.looseObject({
    type: z.enum(["none", "image", ""], { error: 'source.type must be "none" or "image" (Berth does not copy or migrate instances between servers)' }).optional(),
    alias: sourceText.optional(),
    fingerprint: z.string().regex(/^[0-9a-f]{1,64}$/, "must be an image fingerprint (hex), or a prefix of one").optional(),
    server: sourceText.optional(),
    protocol: z.enum(["lxd", "simplestreams", ""], { error: 'source.protocol must be "lxd" or "simplestreams"' }).optional(),
    properties: z.record(z.string().max(256), z.string().max(1024)).refine((p) => Object.keys(p).length <= 64, "at most 64 properties").optional(),
  }).optional().transform(keptSource),
});

export const instanceUpdateSchema = z.strictObject({
  description: z.string().max(4096).optional(),
  config: configMap,
  devices,
  profiles: names,
  ephemeral: notSupported("ephemeral"),
  stateful: notSupported("stateful"),
  // Read-only fields a client echoes back on PUT (the whole instance from a GET); ignored.
  name: z.string().max(256).optional(),
  project: z.string().max(256).optional(),
  type: z.string().max(64).optional(),
  architecture: z.string().max(64).optional(),
  location: z.string().max(256).optional(),
  status: z.string().max(64).optional(),
  status_code: z.number().int().optional(),
  created_at: z.string().max(64).optional(),
});

/** POST /1.0/instances/{name}: LXD's api.InstancePost, for a move within the cluster. */
export const instanceMoveSchema = z.strictObject({
  migration: z.literal(true, { error: "migration must be true: Berth moves instances between members; renaming is not supported" }),
  live: z.boolean().optional(),
  /** The instance's own name (lxc move --target sends it); another name would be a rename. */
  name: z.string().max(256).optional(),
  // Berth keeps no snapshots, so moving "only the instance" is what every move does.
  instance_only: z.boolean().optional(),
  container_only: z.boolean().optional(),
  allow_inconsistent: z.boolean().optional(),
  // Moves to another server, pool or project are not Berth's: only their empty values are accepted.
  target: z.null({ error: "target must be null: Berth moves instances within its cluster (use ?target=MEMBER)" }).optional(),
  pool: z.literal("", { error: "pool must be empty: Berth does not move instances between storage pools" }).optional(),
  project: z.literal("", { error: "project must be empty: Berth does not move instances between projects" }).optional(),
});

export const instanceStateSchema = z.strictObject({
  action: z.enum(["start", "stop", "restart"]),
  force: z.boolean().optional(),
  timeout: z.number().int().min(-1).max(86_400).optional(),
  stateful: z.boolean().optional(),
});

export const serverPutSchema = z.strictObject({ config: z.record(z.string().max(256), z.unknown()) });
export const serverPatchSchema = serverPutSchema;

export const tokenCreateSchema = z.strictObject({
  role: z.string().max(32),
  member: z.string().max(256).nullable().optional(),
  description: z.string().max(4096).optional(),
});

export const joinTokenCreateSchema = z.strictObject({
  server_name: z.string().max(256),
  expiry: z.string().max(32).optional(),
});

/**
 * POST /1.0/certificates, LXD's api.CertificatesPost: with token: true (admin) a trust token for
 * `name`; with certificate (admin) that certificate; with password (LXD 5.0's field) or trust_token
 * (later LXD's) the certificate the client presents over TLS. expiry is Berth's (the token's life).
 */
export const certificatePostSchema = z.strictObject({
  name: z.string().max(256).optional(),
  type: z.string().max(32).optional(),
  restricted: z.boolean().optional(),
  projects: z.array(z.string().max(64)).max(1000).nullable().optional(),
  certificate: z.string().max(64 * 1024).optional(),
  password: z.string().max(16 * 1024).optional(),
  trust_token: z.string().max(16 * 1024).optional(),
  token: z.boolean().optional(),
  expiry: z.string().max(32).optional(),
});

/** POST /1.0/cluster/join: the secret of a decoded join token (and, to check it, the member the agent means to be). */
export const joinSchema = z.strictObject({
  secret: z.string().max(1024),
  server_name: z.string().max(256).optional(),
});

export const placementQuerySchema = z.strictObject({
  name: z.string().max(256).default("placement-query"),
  project: z.string().max(256).optional(),
  type: z.enum(["container", "virtual-machine"]).optional(),
  architecture: arch.optional(),
  description: z.string().max(4096).optional(),
  config: stringMap.optional(),
  devices: devicesSchema.optional(),
  profiles: nameList.optional(),
  reason: z.enum(["new", "evacuation", "relocation"]).optional(),
  target: z.string().max(256).optional(),
  /** Members to leave out, e.g. the member an evacuation would empty. */
  exclude: nameList.optional(),
});

export const scriptletTestSchema = placementQuerySchema.extend({
  source: z.string().max(256 * 1024),
});
