/** Cluster groups: named sets of members used for targeting (@group) and project restrictions. */
import { badRequest, conflict, notFound } from "../domain/errors.ts";
import { checkName } from "../domain/names.ts";
import type { ClusterGroup } from "../domain/types.ts";
import type { EventBus } from "../events/bus.ts";
import type { Store } from "../store/store.ts";
import type { ClusterChanges } from "./changes.ts";
import type { MemberService } from "./memberService.ts";

export class GroupService {
  constructor(
    private readonly store: Store,
    private readonly members: MemberService,
    private readonly bus: EventBus,
    private readonly changes: ClusterChanges,
  ) {}

  list(): ClusterGroup[] {
    return this.store.listGroups();
  }

  get(name: string): ClusterGroup {
    const group = this.store.getGroup(name);
    if (!group) throw notFound(`Cluster group "${name}" not found`);
    return group;
  }

  /** Creates "default" when it is missing (first start). */
  ensureDefault(): void {
    if (!this.store.getGroup("default")) this.store.insertGroup("default", "Default cluster group", []);
  }

  create(input: { name: string; description?: string; members?: string[] }): ClusterGroup {
    const name = checkName("name", input.name);
    if (this.store.getGroup(name)) throw conflict(`Cluster group "${name}" already exists`);
    const members = this.checkMembers(input.members ?? []);
    this.store.insertGroup(name, input.description ?? "", members);
    return this.publish(name, "cluster-group-created", members);
  }

  /**
   * Sets description and/or the member list. Removing a member from the group is refused when
   * it would leave that member in no group at all.
   */
  update(name: string, input: { description?: string; members?: string[] }, replace: boolean): ClusterGroup {
    const current = this.get(name);
    const members = input.members !== undefined ? this.checkMembers(input.members) : replace ? [] : undefined;
    if (members) {
      const removed = current.members.filter((m) => !members.includes(m));
      this.refuseOrphans(name, removed);
    }
    this.store.updateGroup(name, input.description ?? (replace ? "" : undefined), members);
    return this.publish(name, "cluster-group-updated", [...current.members, ...(members ?? [])]);
  }

  remove(name: string): void {
    if (name === "default") throw badRequest(`The "default" cluster group cannot be deleted`);
    const group = this.get(name);
    this.refuseOrphans(name, group.members);
    this.store.deleteGroup(name);
    this.changes.publish({ kind: "group-removed", name });
    this.republishMembers(group.members);
    this.bus.lifecycle("cluster-group-deleted", `/1.0/cluster/groups/${name}`);
  }

  /** Sets a member's groups to exactly the given list (`berth cluster group assign`). */
  assign(member: string, groups: string[]): void {
    this.members.record(member);
    const checked = this.members.checkGroups(groups);
    this.store.setMemberGroups(member, checked);
    this.republishMembers([member]);
    for (const group of checked) this.changes.publish({ kind: "group", group: this.get(group) });
    this.bus.lifecycle("cluster-member-updated", `/1.0/cluster/members/${member}`, { groups: checked });
  }

  private refuseOrphans(group: string, leaving: string[]): void {
    for (const member of leaving) {
      const groups = this.store.groupsOfMember(member);
      if (groups.length === 1 && groups[0] === group) {
        throw conflict(
          `Cluster group "${group}" is the only group of member "${member}"; assign it to another group first`,
        );
      }
    }
  }

  private checkMembers(members: string[]): string[] {
    const out = new Set<string>();
    for (const member of members) {
      checkName("members[]", member);
      if (!this.members.exists(member)) throw badRequest(`members: cluster member "${member}" does not exist`);
      out.add(member);
    }
    return [...out].sort();
  }

  private publish(name: string, action: string, touched: string[]): ClusterGroup {
    const group = this.get(name);
    this.changes.publish({ kind: "group", group });
    this.republishMembers(touched);
    this.bus.lifecycle(action, `/1.0/cluster/groups/${name}`);
    return group;
  }

  private republishMembers(names: string[]): void {
    for (const name of new Set(names)) {
      if (this.members.exists(name)) this.changes.publish({ kind: "member", member: this.members.get(name) });
    }
  }
}
