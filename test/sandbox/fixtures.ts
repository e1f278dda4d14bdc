/** Fixture builders for sandbox and scriptlet tests: `member("n1").domain("rack1").gpus(2).build()`. */
import type { Member, MemberStateReport, Project } from "../../src/domain/types.ts";
import type { ReplicaSnapshot, ScriptletInstance, ScriptletRequest } from "../../src/sandbox/types.ts";

const GiB = 1024 ** 3;

export class MemberBuilder {
  private m: Member;
  constructor(name: string) {
    this.m = {
      server_name: name,
      url: `https://${name}:8443`,
      architecture: "x86_64",
      failure_domain: "default",
      description: "",
      roles: [],
      groups: ["default"],
      config: {},
      status: "Online",
      message: "Fully operational",
      last_heartbeat: "2025-01-01T00:00:00Z",
      resources: {
        cpu: { architecture: "x86_64", total: 8 },
        memory: { total: 16 * GiB, used: 2 * GiB },
        storage: { pools: { default: { total: 100 * GiB, used: 10 * GiB } } },
        gpu: { total: 0, cards: [] },
        load: { average_1m: 0.5, average_5m: 0.5, average_15m: 0.5, processes: 200 },
      },
    };
  }
  domain(failureDomain: string): this {
    this.m.failure_domain = failureDomain;
    return this;
  }
  groups(...groups: string[]): this {
    this.m.groups = ["default", ...groups];
    return this;
  }
  cpus(total: number): this {
    this.m.resources!.cpu.total = total;
    return this;
  }
  gpus(total: number): this {
    this.m.resources!.gpu = {
      total,
      cards: Array.from({ length: total }, () => ({ vendor: "NVIDIA", model: "A100", memory: 40 * GiB })),
    };
    return this;
  }
  /** 5-minute load average (1m and 15m follow it). */
  load(average5m: number): this {
    this.m.resources!.load = { average_1m: average5m, average_5m: average5m, average_15m: average5m, processes: 300 };
    return this;
  }
  build(): Member {
    return structuredClone(this.m);
  }
}

export const member = (name: string): MemberBuilder => new MemberBuilder(name);

/** A state report with the given 5-minute load average over `cpus` logical CPUs. */
export function memberState(load5m: number, cpus = 8): MemberStateReport {
  return {
    sysinfo: { uptime: 3600, load_averages: [load5m, load5m, load5m], total_ram: 16 * GiB, free_ram: 8 * GiB, processes: 300, logical_cpus: cpus },
    storage_pools: { default: { space: { used: 10 * GiB, total: 100 * GiB } } },
  };
}

export function instance(name: string, location: string, over: Partial<ScriptletInstance> = {}): ScriptletInstance {
  return { name, project: "default", type: "container", location, status: "Running", config: {}, devices: {}, ...over };
}

export function project(name: string, config: Record<string, string> = {}): Project {
  return { name, description: "", config };
}

export function request(name: string, over: Partial<ScriptletRequest> = {}): ScriptletRequest {
  return {
    name, project: "default", type: "container", reason: "new", architecture: "x86_64",
    config: {}, devices: { root: { type: "disk", path: "/", pool: "default", size: "10GiB" } },
    profiles: ["default"], description: "", ...over,
  };
}

export function snapshot(parts: Partial<ReplicaSnapshot>): ReplicaSnapshot {
  return {
    members: parts.members ?? [],
    member_states: parts.member_states ?? {},
    instances: parts.instances ?? [],
    pending: parts.pending ?? [],
    projects: parts.projects ?? [project("default")],
  };
}

/** A cluster of n members over `domains` failure domains, two instances per member. */
export function cluster(n: number, domains: number): ReplicaSnapshot {
  const members = Array.from({ length: n }, (_, i) => member(`m${String(i).padStart(4, "0")}`).domain(`fd${i % domains}`).build());
  const instances = members.flatMap((m, i) => [
    instance(`c${i}a`, m.server_name),
    instance(`c${i}b`, m.server_name, { project: i % 2 ? "default" : "other" }),
  ]);
  return snapshot({ members, instances, projects: [project("default"), project("other")] });
}
