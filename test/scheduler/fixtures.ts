/** Fixture builders for scheduler tests: members, requests, a view, and a decision read back as plain data. */
import type { Strategy } from "../../src/domain/serverConfig.ts";
import type { MemberStatus, PlacementReason, SchedulerMode } from "../../src/domain/types.ts";
import { parseSize } from "../../src/domain/units.ts";
import { ClusterView } from "../../src/scheduler/clusterView.ts";
import { rank } from "../../src/scheduler/pipeline.ts";
import type { MemberInput, PlacementRequest, SchedulerConfig } from "../../src/scheduler/types.ts";

export const GiB = 1024 ** 3;

/** "16GiB" or a number of bytes. */
export function bytes(size: string | number): number {
  if (typeof size === "number") return size;
  const parsed = parseSize(size);
  if (parsed === null) throw new Error(`bad size in a fixture: ${size}`);
  return parsed;
}

class MemberBuilder {
  private readonly input: MemberInput;
  constructor(name: string) {
    this.input = {
      name, architecture: "x86_64", failureDomain: "default", groups: ["default"], schedulerMode: "all",
      status: "Online", cpuTotal: 8, memoryTotal: 16 * GiB, memoryUsed: 0,
      pools: { default: { total: 100 * GiB, used: 0 } }, gpuTotal: 0, load1m: 0,
    };
  }
  cpu(cores: number): this { this.input.cpuTotal = cores; return this; }
  memory(total: string | number, used: string | number = 0): this {
    this.input.memoryTotal = bytes(total);
    this.input.memoryUsed = bytes(used);
    return this;
  }
  /** Adds groups to "default". */
  groups(...groups: string[]): this { this.input.groups = ["default", ...groups]; return this; }
  /** Replaces the groups entirely (a member moved out of "default"). */
  onlyGroups(...groups: string[]): this { this.input.groups = groups; return this; }
  arch(architecture: string): this { this.input.architecture = architecture; return this; }
  status(status: MemberStatus): this { this.input.status = status; return this; }
  mode(mode: SchedulerMode): this { this.input.schedulerMode = mode; return this; }
  /** Replaces all pools with this one. */
  pool(name: string, total: string | number): this { this.input.pools = { [name]: { total: bytes(total), used: 0 } }; return this; }
  addPool(name: string, total: string | number): this {
    this.input.pools = { ...this.input.pools, [name]: { total: bytes(total), used: 0 } };
    return this;
  }
  noPools(): this { this.input.pools = {}; return this; }
  gpus(count: number): this { this.input.gpuTotal = count; return this; }
  domain(failureDomain: string): this { this.input.failureDomain = failureDomain; return this; }
  build(): MemberInput { return { ...this.input, groups: [...this.input.groups], pools: { ...this.input.pools } }; }
}

export const member = (name: string): MemberBuilder => new MemberBuilder(name);

class RequestBuilder {
  private readonly req: PlacementRequest;
  constructor(name: string) {
    this.req = {
      name, project: "default", reason: "new", architecture: "", allowedGroups: null,
      request: { cpu: 0, memory: 0, disk: 0, gpu: 0 },
    };
  }
  project(project: string): this { this.req.project = project; return this; }
  reason(reason: PlacementReason): this { this.req.reason = reason; return this; }
  arch(architecture: string): this { this.req.architecture = architecture; return this; }
  cpu(cores: number): this { this.req.request.cpu = cores; return this; }
  memory(size: string | number): this { this.req.request.memory = bytes(size); return this; }
  disk(size: string | number, pool = "default"): this { this.req.request.disk = bytes(size); this.req.pool = pool; return this; }
  gpu(count: number): this { this.req.request.gpu = count; return this; }
  /** "node2" targets a member, "@gpu" a group (the API's ?target= forms). */
  target(target: string): this {
    this.req.target = target.startsWith("@") ? { group: target.slice(1) } : { member: target };
    return this;
  }
  allowedGroups(...groups: string[]): this { this.req.allowedGroups = groups; return this; }
  exclude(...members: string[]): this { this.req.excludeMembers = members; return this; }
  build(): PlacementRequest { return { ...this.req, request: { ...this.req.request } }; }
}

export const request = (name = "c1"): RequestBuilder => new RequestBuilder(name);

export function cluster(...members: (MemberInput | MemberBuilder)[]): ClusterView {
  const view = new ClusterView();
  for (const m of members) view.upsertMember(m instanceof MemberBuilder ? m.build() : m);
  return view;
}

export function config(strategy: Strategy = "count", cpuAllocationRatio = 4, memoryAllocationRatio = 1): SchedulerConfig {
  return { strategy, cpuAllocationRatio, memoryAllocationRatio };
}

/** A full ranking read back as plain data: candidate names best first, and member → reason. */
export function decide(
  view: ClusterView, req: PlacementRequest | RequestBuilder, cfg: SchedulerConfig = config(), seed = 1,
): { candidates: string[]; rejected: Record<string, string>; filters: Record<string, string> } {
  const result = rank(view, req instanceof RequestBuilder ? req.build() : req, cfg, seed);
  const filters: Record<string, string> = {};
  for (const r of result.rejected) filters[r.member] = r.filter;
  return { candidates: result.candidates.map((c) => c.member), rejected: result.rejectedByMember(), filters };
}

/** Puts `count` instances of the given size on a member (keys m/i0, m/i1, ...). */
export function fill(view: ClusterView, memberName: string, count: number, each: Partial<{ cpu: number; memory: number; disk: number; gpu: number; pool: string }> = {}): void {
  for (let i = 0; i < count; i++) {
    view.addInstance(`${memberName}/i${i}`, memberName, { cpu: 0, memory: 0, disk: 0, gpu: 0, ...each });
  }
}
