/** Conversions between table rows and domain objects. */
import type {
  ClusterGroup, Instance, InstanceSource, InstanceStatus, InstanceType, MemberLifecycle, MemberRecord, MemberResources,
  MemberStateReport, Operation, OperationStatus, Project, PoolStatus, StorageDriver, StoragePool, TokenInfo, TokenRole,
} from "../domain/types.ts";
import { OPERATION_STATUS_CODES } from "../domain/types.ts";
import type { JoinTokenInfo } from "../domain/joinToken.ts";
import type { CertificateInfo, CertificateType, TrustTokenInfo } from "../domain/trustToken.ts";
import type * as schema from "./schema.ts";

type Row<T extends { $inferSelect: unknown }> = T["$inferSelect"];

const iso = (ms: number) => new Date(ms).toISOString();

export function memberFromRow(row: Row<typeof schema.members>): MemberRecord {
  return {
    server_name: row.name,
    url: row.url,
    architecture: row.architecture,
    failure_domain: row.failureDomain,
    description: row.description,
    roles: row.roles,
    config: row.config,
    state: row.state as MemberLifecycle,
    resources: (row.resources as MemberResources | null) ?? null,
    member_state: (row.memberState as MemberStateReport | null) ?? null,
    last_heartbeat: row.lastHeartbeat === null ? null : iso(row.lastHeartbeat),
    created_at: iso(row.createdAt),
  };
}

export function instanceFromRow(row: Row<typeof schema.instances>): Instance {
  return {
    name: row.name,
    project: row.project,
    type: row.type as InstanceType,
    architecture: row.architecture,
    location: row.location,
    status: row.status as InstanceStatus,
    description: row.description,
    config: row.config,
    devices: row.devices,
    profiles: row.profiles,
    created_at: iso(row.createdAt),
    ...(row.source ? { source: row.source as unknown as InstanceSource } : {}),
  };
}

export function poolFromRow(row: Row<typeof schema.storagePools>): StoragePool {
  return {
    name: row.name, driver: row.driver as StorageDriver, description: row.description, config: row.config,
    status: row.status as PoolStatus, defined_on: row.definedOn,
  };
}

export function projectFromRow(row: Row<typeof schema.projects>): Project {
  return { name: row.name, description: row.description, config: row.config };
}

export function groupFromRows(row: Row<typeof schema.clusterGroups>, members: string[]): ClusterGroup {
  return { name: row.name, description: row.description, members };
}

export function tokenFromRow(row: Row<typeof schema.tokens>): TokenInfo {
  return {
    id: row.id,
    role: row.role as TokenRole,
    member: row.member,
    description: row.description,
    created_at: iso(row.createdAt),
    last_used_at: row.lastUsedAt === null ? null : iso(row.lastUsedAt),
  };
}

export function joinTokenFromRow(row: Row<typeof schema.joinTokens>): JoinTokenInfo {
  return {
    id: row.id,
    server_name: row.member,
    created_at: iso(row.createdAt),
    expires_at: iso(row.expiresAt),
    used_at: row.usedAt === null ? null : iso(row.usedAt),
    credential_id: row.credentialId,
    revoked_at: row.revokedAt === null ? null : iso(row.revokedAt),
    revoked_reason: row.revokedReason,
  };
}

export function certificateFromRow(row: Row<typeof schema.certificates>): CertificateInfo {
  return {
    fingerprint: row.fingerprint,
    name: row.name,
    type: row.type as CertificateType,
    certificate: row.certificate,
    restricted: false,
    projects: [],
    created_at: iso(row.createdAt),
  };
}

export function trustTokenFromRow(row: Row<typeof schema.trustTokens>): TrustTokenInfo {
  return {
    id: row.id,
    name: row.name,
    type: row.type as CertificateType,
    created_at: iso(row.createdAt),
    expires_at: iso(row.expiresAt),
    used_at: row.usedAt === null ? null : iso(row.usedAt),
    fingerprint: row.fingerprint,
    revoked_at: row.revokedAt === null ? null : iso(row.revokedAt),
  };
}

/** A stored operation: the API shape plus what is needed to resume it. */
export interface OperationRecord extends Operation {
  kind: string;
  input: unknown;
}

export function operationFromRow(row: Row<typeof schema.operations>): OperationRecord {
  const status = row.status as OperationStatus;
  return {
    id: row.id,
    kind: row.kind,
    input: row.input,
    class: "task",
    description: row.description,
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
    status,
    status_code: OPERATION_STATUS_CODES[status],
    resources: row.resources,
    metadata: row.metadata,
    may_cancel: row.mayCancel,
    err: row.err,
    location: "",
  };
}
