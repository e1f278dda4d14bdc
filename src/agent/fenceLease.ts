/**
 * The agent's half of self-fencing (docs/healing.md). Every heartbeat the service acknowledges
 * renews a lease: deadline = when that heartbeat was *sent* + (healing threshold − fence margin),
 * on this boot's monotonic clock. The lease is written to <data>/fence.json with the instances
 * healing would move; each instance's supervisor (supervisor.ts) reads it and force-stops its
 * instance once the deadline has passed — also when this agent has crashed.
 *
 * The agent itself starts none of those instances while the lease has run out, nor after it has
 * run out until it has read its desired state again (a read asked after the moment it noticed):
 * by then the service may have started them elsewhere.
 */
import { readJson, writeJsonAtomic } from "./files.ts";
import type { HeartbeatAnswer } from "./protocol.ts";
import { bootId, monotonicMs, type FenceLease } from "./supervisorState.ts";

export class FenceLeaseKeeper {
  private lease: FenceLease = { bootId: bootId(), deadline: null, thresholdS: 0, marginS: 0, instances: [] };
  /** When the agent noticed that the lease had run out; null once a later desired state was read. */
  private expiredAt: number | null = null;
  private renewedFrom = -Infinity;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly file: string | undefined, private readonly now: () => number = monotonicMs) {}

  /**
   * Takes over the lease a previous run of the agent left (same boot): its deadline stands until a
   * heartbeat renews it, so a restart never lifts a fence that is due.
   */
  async load(): Promise<void> {
    if (!this.file) return;
    const previous = await readJson<FenceLease>(this.file).catch(() => undefined);
    if (previous && previous.bootId === this.lease.bootId && Array.isArray(previous.instances)) this.lease = previous;
  }

  /** A heartbeat sent at `sentAt` (monotonic ms) was answered. */
  async renew(sentAt: number, answer: HeartbeatAnswer): Promise<void> {
    this.noticeExpiry();
    // Answers can cross (a report beside a heartbeat): the lease follows the latest heartbeat sent.
    if (sentAt < this.renewedFrom) return;
    this.renewedFrom = sentAt;
    const thresholdS = answer.healing_threshold ?? 0;
    const marginS = answer.fence_margin ?? 0;
    // Exactly this answer's terms, also when they are shorter than before: the service judges the
    // member by the threshold its next heartbeat says is in force (inForce()).
    const deadline = thresholdS > 0 ? sentAt + Math.max(0, thresholdS - marginS) * 1000 : null;
    await this.write({ ...this.lease, deadline, thresholdS, marginS });
  }

  /** The healing threshold the lease runs on, sent with every heartbeat. */
  inForce(): number {
    return this.lease.thresholdS;
  }

  /** The instances healing would move, from the desired state (written before any of them starts). */
  async fenceable(keys: string[]): Promise<void> {
    const sorted = [...keys].sort();
    if (JSON.stringify(sorted) === JSON.stringify(this.lease.instances)) return;
    await this.write({ ...this.lease, instances: sorted });
  }

  /** A desired state asked for at `askedAt` (monotonic ms) was read: it is newer than a fence before then. */
  desiredRead(askedAt: number): void {
    this.noticeExpiry();
    if (this.expiredAt !== null && askedAt > this.expiredAt) this.expiredAt = null;
  }

  /** Whether starts of fenceable instances are held back (see above). */
  held(): boolean {
    this.noticeExpiry();
    return this.expiredAt !== null;
  }

  /** The lease as last written (tests, logs). */
  current(): FenceLease {
    return this.lease;
  }

  private noticeExpiry(): void {
    if (this.expiredAt === null && this.lease.deadline !== null && this.now() >= this.lease.deadline) this.expiredAt = this.now();
  }

  private write(next: FenceLease): Promise<void> {
    this.lease = next;
    const file = this.file;
    if (!file) return Promise.resolve();
    // One write at a time, the latest lease last.
    this.writing = this.writing.then(() => writeJsonAtomic(file, this.lease)).catch(() => writeJsonAtomic(file, this.lease));
    return this.writing;
  }
}
