/**
 * Watches member liveness as time passes: a member whose heartbeats stop turns Offline without
 * any request touching it. Each change is published (the scheduler's view follows it) and emitted.
 */
import type { ClusterChanges } from "../cluster/changes.ts";
import type { MemberService } from "../cluster/memberService.ts";
import type { MemberStatus } from "../domain/types.ts";
import type { EventBus } from "../events/bus.ts";

export class LivenessMonitor {
  private readonly known = new Map<string, MemberStatus>();
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;

  constructor(
    private readonly members: MemberService,
    private readonly changes: ClusterChanges,
    private readonly bus: EventBus,
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    // Status changes that come with a published member (a heartbeat, an evacuation) are seen here.
    changes.subscribe((change) => {
      if (change.kind === "member") this.check(change.member.server_name, change.member.status, change.member.message);
      else if (change.kind === "member-removed") this.known.delete(change.name);
    });
  }

  private check(name: string, status: MemberStatus, message: string): boolean {
    const before = this.known.get(name);
    this.known.set(name, status);
    if (before === undefined || before === status) return false;
    this.bus.lifecycle("cluster-member-status-changed", `/1.0/cluster/members/${name}`, { from: before, to: status, message });
    return true;
  }

  /** One pass over every member; returns the members whose status changed. */
  async tick(): Promise<string[]> {
    const changed: string[] = [];
    const seen = new Set<string>();
    for (const member of await this.members.list()) {
      seen.add(member.server_name);
      if (this.known.get(member.server_name) === member.status) continue;
      // Publishing runs check() through the subscription above, which emits the event.
      if (this.known.has(member.server_name)) changed.push(member.server_name);
      this.changes.publish({ kind: "member", member });
    }
    for (const name of this.known.keys()) if (!seen.has(name)) this.known.delete(name);
    return changed;
  }

  start(intervalMs = 1000): void {
    this.stop();
    const tick = () => {
      if (this.ticking) return; // a slow store: never two passes at once
      this.ticking = true;
      this.tick().catch((err) => this.onError(err)).finally(() => { this.ticking = false; });
    };
    tick();
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
