/**
 * The self-fence of lxd containers (docs/lxd.md, docs/healing.md), one look at a time; the
 * detached fence watcher (lxdFenceWatcher.ts) looks every 200 ms, as a process supervisor does.
 *
 * While the agent's fence lease (fenceLease.ts, <data>/fence.json) holds, a look only reads that
 * file. Once its deadline has passed, the look asks LXD for its containers and force-stops, all at
 * once, every one still running that carries this member's marks (user.berth.member and the
 * others, lxdShared.ts) and whose instance the lease lists — those healing would move — and
 * records the fence where the driver reads it, so the instance shows Stopped and starts again
 * only once the agent has read its desired state. While the lease stays run out, LXD is asked
 * again at most every `lxdEveryMs` (a container started meanwhile is fenced too).
 */
import { toError } from "../domain/errors.ts";
import type { LxdClient } from "./drivers/lxdClient.ts";
import { lxdInstancePath, ownedBy, type LxdInstance } from "./drivers/lxdShared.ts";
import { instanceKey } from "./protocol.ts";
import { fenceDue, fenceReason, type FenceLease } from "./supervisorState.ts";

export interface LxdFenceOptions {
  member: string;
  lxd: Pick<LxdClient, "get" | "run">;
  /** The lease as it is on disk now; undefined when there is none yet (or it is being replaced). */
  lease: () => FenceLease | undefined;
  /** This boot's monotonic clock in ms (supervisorState.monotonicMs). */
  now: () => number;
  /** This boot's id: a lease of another boot fences nothing. */
  boot: string | undefined;
  /** Records that the instance was fenced, and why (the driver's state.json). */
  recordFence: (instance: { project: string; name: string }, reason: string) => Promise<void>;
  log: (line: string) => void;
  /** The least time between two looks at LXD while the lease has run out (default 1 s). */
  lxdEveryMs?: number;
}

/** How long LXD may take over one forced stop. */
const FORCE_STOP_TIMEOUT_S = 120;

export class LxdFence {
  private lastAsked = -Infinity;
  private readonly everyMs: number;

  constructor(private readonly opts: LxdFenceOptions) {
    this.everyMs = opts.lxdEveryMs ?? 1_000;
  }

  /** One look; resolves with the keys ("project/name") of the containers it force-stopped. */
  async look(): Promise<string[]> {
    const { lxd, member, boot } = this.opts;
    const lease = this.opts.lease();
    const now = this.opts.now();
    if (!lease || !lease.instances.some((key) => fenceDue(lease, key, now, boot))) return [];
    if (now - this.lastAsked < this.everyMs) return [];
    this.lastAsked = now;
    const containers = await lxd.get<LxdInstance[]>("/1.0/instances?recursion=1&all-projects=true");
    const due = containers.flatMap((found) => {
      const owned = ownedBy(found, member);
      return owned && found.status !== "Stopped" && fenceDue(lease, instanceKey(owned), now, boot) ? [owned] : [];
    });
    const reason = fenceReason(lease);
    if (due.length > 0) this.opts.log(`${reason}; force-stopping ${due.map(instanceKey).join(", ")}, ${now - lease.deadline!} ms after the deadline`);
    const stopped = await Promise.all(due.map(async (instance) => {
      const key = instanceKey(instance);
      try {
        await lxd.run("PUT", lxdInstancePath(instance, "/state"), { action: "stop", force: true }, FORCE_STOP_TIMEOUT_S);
      } catch (err) {
        this.opts.log(`${key}: the forced stop failed (tried again within ${this.everyMs / 1000} s): ${toError(err).message}`);
        return [];
      }
      this.opts.log(`${key}: force-stopped through LXD, ${this.opts.now() - lease.deadline!} ms after the deadline`);
      await this.opts.recordFence(instance, reason).catch((err: unknown) => this.opts.log(`${key}: recording the fence failed: ${toError(err).message}`));
      return [key];
    }));
    return stopped.flat();
  }
}
