/** Server configuration keys (GET/PATCH/PUT /1.0): each typed, ranged and defaulted. */
import { badRequest } from "./errors.ts";

export type Strategy = "count" | "spread" | "pack";
export const STRATEGIES: readonly Strategy[] = ["count", "spread", "pack"];

export interface ServerConfig {
  "instances.placement.scriptlet": string;
  "cluster.offline_threshold": number;
  "cluster.healing_threshold": number;
  "cluster.agent_step_timeout": number;
  "cluster.healing.fence_command": string;
  "cluster.evacuate.max_parallel": number;
  "cluster.healing.max_parallel": number;
  "scheduler.strategy": Strategy;
  "scheduler.cpu_allocation_ratio": number;
  "scheduler.memory_allocation_ratio": number;
  "scriptlet.timeout_ms": number;
  "scriptlet.memory_mb": number;
  "operations.retention": number;
}
export type ServerConfigKey = keyof ServerConfig;

interface KeySpec {
  kind: "string" | "integer" | "number" | "enum";
  default: string | number;
  min?: number;
  max?: number;
  values?: readonly string[];
  /** Maximum length for strings, in characters. */
  maxLength?: number;
  description: string;
}

export const SERVER_CONFIG_KEYS: Record<ServerConfigKey, KeySpec> = {
  "instances.placement.scriptlet": {
    kind: "string", default: "", maxLength: 256 * 1024,
    description: "JavaScript placement scriptlet defining instance_placement(request, candidate_members); empty = built-in placement",
  },
  "cluster.offline_threshold": {
    kind: "integer", default: 20, min: 10, max: 86_400,
    description: "Seconds without a heartbeat after which a member is Offline",
  },
  "cluster.healing_threshold": {
    kind: "integer", default: 0, min: 0, max: 86_400 * 30,
    description: "Seconds offline after which a member is healed (0 = off; effective value is max(this, offline_threshold))",
  },
  "cluster.healing.fence_command": {
    kind: "string", default: "", maxLength: 4096,
    description: "Executable run with the member's JSON on stdin before a member is healed (IPMI/STONITH); a non-zero exit aborts that heal",
  },
  "cluster.agent_step_timeout": {
    kind: "integer", default: 60, min: 1, max: 3600,
    description: "Seconds a step on a member with an agent (start, stop, move) waits for the agent to report the result before it fails",
  },
  "cluster.evacuate.max_parallel": {
    kind: "integer", default: 4, min: 1, max: 256,
    description: "Instances handled at once during an evacuation or restore",
  },
  "cluster.healing.max_parallel": {
    // A heal copies nothing (its moves are records; each target starts the instance afresh) and
    // every second counts: far more at once than a maintenance evacuation.
    kind: "integer", default: 256, min: 1, max: 1024,
    description: "Instances handled at once when a member is healed (evacuation mode heal)",
  },
  "scheduler.strategy": {
    kind: "enum", default: "count", values: STRATEGIES,
    description: "Ranking: count (fewest instances), spread (least allocated), pack (most allocated)",
  },
  "scheduler.cpu_allocation_ratio": {
    kind: "number", default: 4.0, min: 0.01, max: 1000,
    description: "CPU overcommit: a member offers cpu.total × this many cores",
  },
  "scheduler.memory_allocation_ratio": {
    kind: "number", default: 1.0, min: 0.01, max: 100,
    description: "Memory overcommit: a member offers memory.total × this many bytes",
  },
  "scriptlet.timeout_ms": {
    kind: "integer", default: 200, min: 1, max: 60_000,
    description: "Wall-clock limit of one scriptlet call, in milliseconds",
  },
  "scriptlet.memory_mb": {
    // A placement function needs little; each sandbox worker may fill this much before it is replaced.
    kind: "integer", default: 32, min: 1, max: 256,
    description: "Memory limit of the scriptlet runtime, in MiB (at most 256)",
  },
  "operations.retention": {
    kind: "integer", default: 86_400, min: 60, max: 86_400 * 366,
    description: "Seconds a finished operation is kept before it is forgotten",
  },
};

export const SERVER_CONFIG_KEY_NAMES = Object.keys(SERVER_CONFIG_KEYS) as ServerConfigKey[];

export function defaultServerConfig(): ServerConfig {
  const out: Record<string, unknown> = {};
  for (const key of SERVER_CONFIG_KEY_NAMES) out[key] = SERVER_CONFIG_KEYS[key].default;
  return out as unknown as ServerConfig;
}

/**
 * Validates one key and value as a user sent them (JSON value or string, as LXD accepts
 * "20" for integers) and returns the typed value. Throws a 400 naming the key and value.
 */
export function parseServerConfigValue(key: string, value: unknown): string | number {
  const spec = (SERVER_CONFIG_KEYS as Record<string, KeySpec | undefined>)[key];
  if (!spec) {
    throw badRequest(`Unknown configuration key "${key}" (known keys: ${SERVER_CONFIG_KEY_NAMES.join(", ")})`);
  }
  const shown = JSON.stringify(value)?.slice(0, 80) ?? String(value);
  if (spec.kind === "string") {
    if (typeof value !== "string") throw badRequest(`Configuration key "${key}" must be a string, got ${shown}`);
    if (spec.maxLength !== undefined && value.length > spec.maxLength) {
      throw badRequest(`Configuration key "${key}" is too long (${value.length} characters, at most ${spec.maxLength})`);
    }
    return value;
  }
  if (spec.kind === "enum") {
    if (typeof value !== "string" || !spec.values!.includes(value)) {
      throw badRequest(`Configuration key "${key}" must be one of ${spec.values!.join(", ")}, got ${shown}`);
    }
    return value;
  }
  let num: number;
  if (typeof value === "number") num = value;
  else if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) num = Number(value);
  else throw badRequest(`Configuration key "${key}" must be a ${spec.kind === "integer" ? "whole number" : "number"}, got ${shown}`);
  if (!Number.isFinite(num)) throw badRequest(`Configuration key "${key}" must be finite, got ${shown}`);
  if (spec.kind === "integer" && !Number.isInteger(num)) {
    throw badRequest(`Configuration key "${key}" must be a whole number, got ${shown}`);
  }
  if (spec.min !== undefined && num < spec.min) throw badRequest(`Configuration key "${key}" must be at least ${spec.min}, got ${shown}`);
  if (spec.max !== undefined && num > spec.max) throw badRequest(`Configuration key "${key}" must be at most ${spec.max}, got ${shown}`);
  return num;
}

/** Effective healing threshold in seconds: max(healing, offline), 0 when healing is off. */
export function effectiveHealingThreshold(config: ServerConfig): number {
  const healing = config["cluster.healing_threshold"];
  return healing > 0 ? Math.max(healing, config["cluster.offline_threshold"]) : 0;
}
