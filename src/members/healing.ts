/**
 * Healing (DESIGN §6): a member whose last heartbeat is older than the healing threshold is
 * evacuated in mode `heal` — automatically, one member at a time in the order they went silent,
 * only while a strict majority of the members is online (else the service is probably the one cut
 * off), after the optional fence command said yes. The threshold a member is judged by is the
 * larger of the configured one and the one its agent last acknowledged (heartbeat answers carry
 * it, with the fence margin the agent's supervisors fence by; docs/healing.md).
 */
import { spawn } from "node:child_process";
import type { ConfigService } from "../cluster/configService.ts";
import type { MemberService } from "../cluster/memberService.ts";
import { effectiveHealingThreshold } from "../domain/serverConfig.ts";
import type { Member } from "../domain/types.ts";
import type { EventBus } from "../events/bus.ts";
import type { OperationManager } from "../operations/manager.ts";

export interface HealingDeps {
  members: MemberService;
  config: ConfigService;
  bus: EventBus;
  operations: OperationManager;
  now: () => number;
  /** Starts the heal of a member (an evacuation in mode heal); returns the operation's id. */
  heal: (member: string) => Promise<string>;
  onError?: (err: unknown) => void;
}

export interface HealingStats {
  started: number;
  succeeded: number;
  failed: number;
  heldBack: number;
  /** Seconds from the last heartbeat to the end of each successful heal. */
  offlineToHealed: number[];
}

/** How long before the service heals a member its agent's supervisors fence its instances. */
export function fenceMargin(thresholdS: number): number {
  return Math.max(2, Math.ceil(thresholdS * 0.2));
}

export class HealingMonitor {
  /** member → the healing threshold (s) its agent last acknowledged. */
  private readonly acknowledged = new Map<string, number>();
  /** Members whose heal the fence command refused: not tried again until they are seen online. */
  private readonly refused = new Set<string>();
  private current: { member: string; operation: string; silentSince: number } | null = null;
  private held: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private dueTimer: NodeJS.Timeout | null = null;
  private ticking = false;
  /** When the next member not yet due passes its threshold (epoch ms), as the last pass saw it; null: none. */
  private nextDueAt: number | null = null;
  /** Passes finished (tick() calls that ended), for tests of the timers. */
  passes = 0;
  readonly stats: HealingStats = { started: 0, succeeded: 0, failed: 0, heldBack: 0, offlineToHealed: [] };

  constructor(private readonly deps: HealingDeps) {}

  /**
   * A heartbeat: what the answer carries, and what this member is judged by from now on. The agent
   * may never get this answer, so the member is judged by the larger of the threshold offered now
   * and `inForce`, the one its heartbeat says its fence lease runs on (docs/healing.md).
   */
  acknowledge(member: string, inForce?: number): { healing_threshold: number; fence_margin: number } {
    const threshold = effectiveHealingThreshold(this.deps.config.get());
    this.acknowledged.set(member, Math.max(threshold, inForce ?? 0));
    return { healing_threshold: threshold, fence_margin: threshold > 0 ? fenceMargin(threshold) : 0 };
  }

  /** Why healing is held back right now (the partition guard), or null. */
  heldBack(): string | null {
    return this.held;
  }

  /** The threshold (s) a member is judged by: the larger of the configured one and its acknowledged one. */
  thresholdFor(member: string): number {
    const configured = effectiveHealingThreshold(this.deps.config.get());
    if (configured === 0) return 0;
    return Math.max(configured, this.acknowledged.get(member) ?? 0);
  }

  /** One pass: notices the end of the running heal, then starts the next one when one is due. */
  async tick(): Promise<void> {
    const { members, config, now, bus } = this.deps;
    this.nextDueAt = null;
    if (this.current) {
      const op = await this.deps.operations.get(this.current.operation).catch(() => null);
      if (op && op.status === "Running") return; // one at a time
      if (op?.status === "Success") {
        this.stats.succeeded++;
        this.stats.offlineToHealed.push((now() - this.current.silentSince) / 1000);
      } else {
        this.stats.failed++;
      }
      this.current = null;
    }
    if (effectiveHealingThreshold(config.get()) === 0) {
      this.held = null;
      return;
    }
    const all = await members.list();
    const offlineAfter = config.get()["cluster.offline_threshold"] * 1000;
    const silentFor = (m: Member) => (m.last_heartbeat === null ? Infinity : now() - Date.parse(m.last_heartbeat));
    // For the partition guard a member counts as reachable when it heartbeated within half the
    // offline threshold (two heartbeat periods): members cut off together fall silent a heartbeat
    // period apart, and the first of them must not be healed while the others still look online.
    const online = all.filter((m) => silentFor(m) <= offlineAfter / 2);
    for (const m of online) this.refused.delete(m.server_name);
    const due = all
      .filter((m) => m.last_heartbeat !== null && !["Evacuating", "Evacuated", "Restoring"].includes(m.status))
      .filter((m) => !this.refused.has(m.server_name) && silentFor(m) > this.thresholdFor(m.server_name) * 1000)
      .sort((a, b) => silentFor(b) - silentFor(a)); // the one silent longest first
    for (const m of all) {
      if (m.last_heartbeat === null || ["Evacuating", "Evacuated", "Restoring"].includes(m.status) || this.refused.has(m.server_name)) continue;
      const at = Date.parse(m.last_heartbeat) + this.thresholdFor(m.server_name) * 1000 + 1;
      if (at > now() && (this.nextDueAt === null || at < this.nextDueAt)) this.nextDueAt = at;
    }
    if (due.length === 0) {
      this.held = null;
      return;
    }
    if (online.length * 2 <= all.length) {
      const why = `only ${online.length} of ${all.length} members are online: the service may be the one cut off, so nothing is healed`;
      if (this.held !== why) {
        this.held = why;
        this.stats.heldBack++;
        bus.lifecycle("cluster-healing-held", "/1.0/cluster/members", { online: online.length, members: all.length, due: due.map((m) => m.server_name) });
      }
      return;
    }
    this.held = null;
    const member = due[0];
    const fence = await this.fence(member);
    if (fence !== null) {
      this.refused.add(member.server_name);
      bus.lifecycle("cluster-member-heal-aborted", `/1.0/cluster/members/${member.server_name}`, { reason: fence });
      return;
    }
    const operation = await this.deps.heal(member.server_name);
    this.stats.started++;
    this.current = { member: member.server_name, operation, silentSince: Date.parse(member.last_heartbeat!) };
  }

  /** Runs cluster.healing.fence_command with the member on stdin; null when it allowed the heal. */
  private fence(member: Member): Promise<string | null> {
    const command = this.deps.config.get()["cluster.healing.fence_command"];
    if (!command) return Promise.resolve(null);
    return new Promise((resolve) => {
      const child = spawn(command, [], { stdio: ["pipe", "ignore", "pipe"], timeout: 60_000 });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => { if (stderr.length < 4096) stderr += d.toString(); });
      child.on("error", (err) => resolve(`the fence command could not run: ${err.message}`));
      child.on("exit", (code, signal) => {
        if (code === 0) resolve(null);
        else resolve(`the fence command ${command} ${signal ? `was killed by ${signal}` : `exited with code ${code}`}${stderr.trim() ? `: ${stderr.trim()}` : ""}`);
      });
      child.stdin.on("error", () => {});
      child.stdin.end(JSON.stringify(member));
    });
  }

  /**
   * A pass now and every intervalMs, and one more at the moment the next member becomes due when
   * that comes sooner: a heal starts at its threshold, not up to a pass later.
   */
  start(intervalMs = 1000): void {
    this.stop();
    const pass = () => {
      if (this.ticking) return;
      this.ticking = true;
      this.tick().catch((err) => this.deps.onError?.(err)).finally(() => {
        this.ticking = false;
        this.passes++;
        if (this.timer === null) return; // stopped meanwhile
        if (this.dueTimer) clearTimeout(this.dueTimer);
        this.dueTimer = null;
        const wait = this.nextDueAt === null ? Infinity : this.nextDueAt - this.deps.now();
        if (wait < intervalMs) {
          this.dueTimer = setTimeout(pass, Math.max(0, wait));
          this.dueTimer.unref();
        }
      });
    };
    this.timer = setInterval(pass, intervalMs);
    this.timer.unref();
    setImmediate(pass); // the first pass at once: it also learns when the next member is due
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.dueTimer) clearTimeout(this.dueTimer);
    this.timer = null;
    this.dueTimer = null;
  }
}
