/**
 * What each member has given out, as the scheduler counts it: the requests of the instances on it
 * (the domain's resourceRequest: limits.cpu, limits.memory, ...) against its capacity after the
 * allocation ratios (the scheduler's capacity()). The same functions the service uses, bundled in.
 */
import { resourceRequest } from "../../src/domain/instanceConfig.ts";
import type { Instance, Member } from "../../src/domain/types.ts";
import { capacity } from "../../src/scheduler/capacity.ts";

export interface MemberUsage {
  instances: number;
  running: number;
  cpu: { allocated: number; capacity: number };
  memory: { allocated: number; capacity: number };
  /** The reported 1-minute load average against the member's cpus; null before it reported any. */
  load: { average: number; cpus: number } | null;
}

export interface Ratios {
  cpu: number;
  memory: number;
}

export function ratiosOf(effectiveConfig: Record<string, unknown> | undefined): Ratios {
  const number = (key: string) => {
    const value = Number(effectiveConfig?.[key]);
    return Number.isFinite(value) && value > 0 ? value : 1;
  };
  return { cpu: number("scheduler.cpu_allocation_ratio"), memory: number("scheduler.memory_allocation_ratio") };
}

export function usageByMember(members: Member[], instances: Instance[], ratios: Ratios): Map<string, MemberUsage> {
  const usage = new Map<string, MemberUsage>();
  for (const m of members) {
    const r = m.resources;
    usage.set(m.server_name, {
      instances: 0,
      running: 0,
      cpu: { allocated: 0, capacity: r ? capacity(r.cpu.total, ratios.cpu) : 0 },
      memory: { allocated: 0, capacity: r ? capacity(r.memory.total, ratios.memory) : 0 },
      load: r && r.cpu.total > 0 ? { average: r.load.average_1m, cpus: r.cpu.total } : null,
    });
  }
  for (const i of instances) {
    const u = usage.get(i.location);
    if (!u) continue;
    const request = resourceRequest(i);
    u.instances++;
    if (i.status === "Running") u.running++;
    u.cpu.allocated += request.cpu;
    u.memory.allocated += request.memory;
  }
  return usage;
}
