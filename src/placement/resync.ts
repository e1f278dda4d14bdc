/**
 * A replica's full re-read of what it keeps in memory (issue 16's feed gap): a replica publishes
 * each change to the shared feed just after committing it, so one killed between the two leaves
 * the others without that change. When a replica disappears or the leadership changes hands, the
 * survivors re-read (cluster/replicas.ts): every in-memory table, and the store's members,
 * instances and projects as the changes that bring the views following ClusterChanges (the
 * scheduler's, the sandbox's, the agents' desired state) to it — removals included of what the
 * views hold and the store no longer does.
 */
import type { ClusterChange } from "../cluster/changes.ts";
import type { Instance, Member, Project } from "../domain/types.ts";
import type { ClusterView } from "../scheduler/index.ts";
import { instanceKey } from "./schedulerIndex.ts";

export interface ResyncDeps {
  /** The scheduler's view: which members and instances the views hold now. */
  view: ClusterView;
  /** Re-reads every in-memory table (config and the scriptlet, groups, projects, pools, cached tokens and certificates). */
  reload: () => Promise<void>;
  members: () => Promise<Member[]>;
  instances: () => Promise<Instance[]>;
  /** The projects as cached (re-read by reload). */
  projects: () => Project[];
}

export async function storedChanges(deps: ResyncDeps): Promise<ClusterChange[]> {
  // What the views hold, taken before the store is read: something placed here while the reads
  // run is not in them, and must not be taken for something the store lost.
  const projectsHeld = new Set(deps.projects().map((p) => p.name));
  const membersHeld = deps.view.memberNames();
  const instancesHeld = deps.view.instanceLocations();
  await deps.reload();
  const members = await deps.members();
  const instances = await deps.instances();
  const projects = deps.projects();

  const changes: ClusterChange[] = projects.map((project) => ({ kind: "project", project }));
  for (const { name } of projects) projectsHeld.delete(name);
  for (const name of projectsHeld) changes.push({ kind: "project-removed", name });
  for (const member of members) changes.push({ kind: "member", member });
  for (const instance of instances) changes.push({ kind: "instance", instance });
  const stored = new Set(instances.map((i) => instanceKey(i.project, i.name)));
  for (const [key, location] of instancesHeld) {
    if (stored.has(key)) continue;
    const slash = key.indexOf("/");
    changes.push({ kind: "instance-removed", project: key.slice(0, slash), name: key.slice(slash + 1), location });
  }
  const storedMembers = new Set(members.map((m) => m.server_name));
  for (const name of membersHeld) if (!storedMembers.has(name)) changes.push({ kind: "member-removed", name });
  return changes;
}
