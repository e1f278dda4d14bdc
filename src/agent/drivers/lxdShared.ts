/**
 * What the lxd driver and its fence watcher (../lxdFenceWatcher.ts) share: the shape of an LXD
 * instance, the keys that mark a container as a member's, its API path, the driver's record of
 * what it ordered last (instances/<project>/<name>/state.json), and where the watcher keeps its
 * pid and log.
 */
import { join } from "node:path";
import { instanceDir } from "../files.ts";
import type { LxdDefinition } from "./lxdChange.ts";

export const OWNER_KEY = "user.berth.member";
export const PROJECT_KEY = "user.berth.project";
export const NAME_KEY = "user.berth.name";

/** An LXD instance as GET /1.0/instances/NAME shows it (what the driver reads of it). */
export interface LxdInstance extends LxdDefinition {
  name: string;
  status: string;
  architecture: string;
  ephemeral?: boolean;
  stateful?: boolean;
}

/** The Berth instance an LXD container is, when it carries this member's marks; else null. */
export function ownedBy(found: LxdInstance, member: string): { project: string; name: string } | null {
  const project = found.config[PROJECT_KEY];
  if (found.config[OWNER_KEY] !== member || !project || found.config[NAME_KEY] !== found.name) return null;
  return { project, name: found.name };
}

/** /1.0/instances/NAME[suffix]?project=PROJECT */
export function lxdInstancePath(i: { project: string; name: string }, suffix = ""): string {
  return `/1.0/instances/${encodeURIComponent(i.name)}${suffix}?project=${encodeURIComponent(i.project)}`;
}

/**
 * What the driver ordered last: a container seen Stopped after a start it did not stop is a
 * failure. `fenced` (the watcher's reason) when the fence watcher force-stopped it: it is Stopped,
 * as it should be, and starts again once the desired state says so.
 */
export interface Ordered {
  ordered: "Running" | "Stopped";
  startedAt?: number;
  fenced?: string;
}

export const orderedPath = (data: string, i: { project: string; name: string }) => join(instanceDir(data, i), "state.json");

/** The fence watcher's pid, written by the watcher when it starts: how a restarted agent finds it. */
export const fenceWatcherPidPath = (data: string) => join(data, "lxd-fence-watcher.pid");
export const fenceWatcherLogPath = (data: string) => join(data, "logs", "lxd-fence-watcher.log");
