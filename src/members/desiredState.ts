/**
 * What each member's agent should run: the instances recorded on it and their power state, with a
 * revision that moves whenever one of them changes (created, changed, started or stopped, moved in
 * or out, deleted). Agents long-poll it (GET /1.0/cluster/members/{name}/desired?since=&wait=).
 * It also carries requests for an agent (an instance's recent log), since agents open no port:
 * the request rides the long-poll's answer and the agent posts the answer back.
 */
import { randomUUID } from "node:crypto";
import type { ClusterChanges } from "../cluster/changes.ts";
import type { InstanceRecords } from "../cluster/instanceRecords.ts";
import { BerthError } from "../domain/errors.ts";
import type { AgentAnswer, AgentRequest, DesiredInstance, DesiredState as Desired } from "../domain/agentProtocol.ts";
import type { Instance } from "../domain/types.ts";

interface Pending {
  request: AgentRequest;
  resolve: (answer: AgentAnswer) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** How long a held long-poll waits after the first change before it answers (ms). */
const BURST_MS = 25;

/** Revisions start at the service's start time, so an agent's `since` from before a restart never matches. */
const FIRST_REVISION = Date.now();

export class DesiredState {
  private readonly revisions = new Map<string, number>();
  private readonly wakers = new Map<string, Set<() => void>>();
  private readonly pending = new Map<string, Map<string, Pending>>();

  /** healsElsewhere: whether mode heal would move the instance (evacuationRules.chooseHealAction). */
  constructor(private readonly records: InstanceRecords, changes: ClusterChanges, private readonly healsElsewhere: (instance: Instance) => boolean) {
    changes.subscribe((change) => {
      if (change.kind === "instance") {
        this.bump(change.instance.location);
        if (change.previousLocation && change.previousLocation !== change.instance.location) this.bump(change.previousLocation);
      } else if (change.kind === "instance-removed") {
        this.bump(change.location);
      } else if (change.kind === "member-removed") {
        this.bump(change.name);
        this.revisions.delete(change.name);
      }
    });
  }

  revision(member: string): number {
    return this.revisions.get(member) ?? FIRST_REVISION;
  }

  /** The desired state now, or — when `since` is the current revision — once it changes or `waitS` passes. */
  async read(member: string, since: number | undefined, waitS: number): Promise<Desired> {
    if (since === this.revision(member) && waitS > 0 && this.requestsFor(member).length === 0) {
      await new Promise<void>((resolve) => {
        const set = this.wakers.get(member) ?? new Set();
        this.wakers.set(member, set);
        const wake = () => {
          clearTimeout(timer);
          set.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, waitS * 1000);
        timer.unref();
        set.add(wake);
      });
      // Changes come in bursts (an evacuation or a heal moves many instances at once): answer once
      // for the burst rather than once per change, each answer carrying the member's whole list.
      await new Promise((resolve) => setTimeout(resolve, BURST_MS).unref());
    }
    const revision = this.revision(member);
    const instances = (await this.records.list({ location: member })).map((i) => DesiredState.desiredOf(i, this.healsElsewhere(i)));
    return { revision, instances, requests: this.requestsFor(member) };
  }

  /** The instance as the member's agent is handed it. */
  static desiredOf(i: Instance, fence = false): DesiredInstance {
    return {
      project: i.project, name: i.name, type: i.type, config: i.config, devices: i.devices, profiles: i.profiles,
      description: i.description, ...(i.source ? { source: i.source } : {}), desired: i.status === "Running" ? "Running" : "Stopped", fence,
    };
  }

  /** Asks the member's agent for something; resolves with its answer, or 504 after timeoutMs. */
  ask(member: string, asked: Omit<AgentRequest, "id">, timeoutMs: number): Promise<AgentAnswer> {
    const request: AgentRequest = { id: randomUUID(), ...asked };
    const forMember = this.pending.get(member) ?? new Map<string, Pending>();
    this.pending.set(member, forMember);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        forMember.delete(request.id);
        reject(new BerthError(504, `The agent on cluster member "${member}" did not answer within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      timer.unref();
      forMember.set(request.id, { request, resolve, reject, timer });
      this.wake(member);
    });
  }

  /** An agent's answer to a request; false when there is no such request (answered, or timed out). */
  answer(member: string, id: string, answer: AgentAnswer): boolean {
    const entry = this.pending.get(member)?.get(id);
    if (!entry) return false;
    clearTimeout(entry.timer);
    this.pending.get(member)!.delete(id);
    entry.resolve(answer);
    return true;
  }

  private requestsFor(member: string): AgentRequest[] {
    return [...(this.pending.get(member)?.values() ?? [])].map((p) => p.request);
  }

  private bump(member: string): void {
    this.revisions.set(member, this.revision(member) + 1);
    this.wake(member);
  }

  private wake(member: string): void {
    for (const wake of [...(this.wakers.get(member) ?? [])]) wake();
  }
}
