/** Cluster groups: named sets of members used for targeting (@group) and project restrictions. */
import { badRequest, conflict } from "../domain/errors.ts";
import { checkName } from "../domain/names.ts";
import type { ClusterGroup } from "../domain/types.ts";
import type { EventBus } from "../events/bus.ts";
import { insertIfAbsent, type Store } from "../store/store.ts";
import type { ClusterChanges } from "./changes.ts";
import type { GroupCache } from "./groupCache.ts";
import type { MemberService } from "./memberService.ts";

export class GroupService {
  constructor(
    private readonly store: Store,
    private readonly cache: GroupCache,
    private readonly members: MemberService,
    private readonly bus: EventBus,
    private readonly changes: ClusterChanges,
  ) {}

  list(): ClusterGroup[] {
    return this.cache.list();
  }

  get(name: string): ClusterGroup {
    return this.cache.get(name);
  }

  exists(name: string): boolean {
    return this.cache.exists(name);
  }

  /** Creates "default" when it is missing (first start; replicas may start together). */
  async ensureDefault(): Promise<void> {
    if (!(await this.store.getGroup("default"))) await insertIfAbsent(() => this.store.insertGroup("default", "Default cluster group", []));
    await this.cache.load();
  }

  async create(input: { name: string; description?: string; members?: string[] }): Promise<ClusterGroup> {
    const name = checkName("name", input.name);
    if (await this.store.getGroup(name)) throw conflict(`Cluster group "${name}" already exists`);
    const members = await this.checkMembers(input.members ?? []);
    await this.store.insertGroup(name, input.description ?? "", members);
    return this.publish(name, "cluster-group-created", members);
  }

  /**
   * Sets description and/or the member list. Removing a member from the group is refused when
   * it would leave that member in no group at all.
   */
  async update(name: string, input: { description?: string; members?: string[] }, replace: boolean): Promise<ClusterGroup> {
    const current = this.get(name);
    const members = input.members !== undefined ? await this.checkMembers(input.members) : replace ? [] : undefined;
    if (members) {
      const removed = current.members.filter((m) => !members.includes(m));
      this.refuseOrphans(name, removed);
    }
    await this.store.updateGroup(name, input.description ?? (replace ? "" : undefined), members);
    return this.publish(name, "cluster-group-updated", [...current.members, ...(members ?? [])]);
  }

  async remove(name: string): Promise<void> {
    if (name === "default") throw badRequest(`The "default" cluster group cannot be deleted`);
    const group = this.get(name);
    this.refuseOrphans(name, group.members);
    await this.store.deleteGroup(name);
    await this.cache.load();
    this.changes.publish({ kind: "group-removed", name });
    await this.republishMembers(group.members);
    this.bus.lifecycle("cluster-group-deleted", `/1.0/cluster/groups/${name}`);
  }

  /** Sets a member's groups to exactly the given list (`berth cluster group assign`). */
  async assign(member: string, groups: string[]): Promise<void> {
    await this.members.record(member);
    const checked = this.cache.checkGroups(groups);
    await this.store.setMemberGroups(member, checked);
    await this.cache.load();
    await this.republishMembers([member]);
    for (const group of checked) this.changes.publish({ kind: "group", group: this.get(group) });
    this.bus.lifecycle("cluster-member-updated", `/1.0/cluster/members/${member}`, { groups: checked });
  }

  private refuseOrphans(group: string, leaving: string[]): void {
    for (const member of leaving) {
      const groups = this.cache.ofMember(member);
      if (groups.length === 1 && groups[0] === group) {
        throw conflict(
          `Cluster group "${group}" is the only group of member "${member}"; assign it to another group first`,
        );
      }
    }
  }

  private async checkMembers(members: string[]): Promise<string[]> {
    const out = new Set<string>();
    for (const member of members) {
      checkName("members[]", member);
      if (!(await this.members.exists(member))) throw badRequest(`members: cluster member "${member}" does not exist`);
      out.add(member);
    }
    return [...out].sort();
  }

  private async publish(name: string, action: string, touched: string[]): Promise<ClusterGroup> {
    await this.cache.load();
    const group = this.get(name);
    this.changes.publish({ kind: "group", group });
    await this.republishMembers(touched);
    this.bus.lifecycle(action, `/1.0/cluster/groups/${name}`);
    return group;
  }

  private async republishMembers(names: string[]): Promise<void> {
    for (const name of new Set(names)) {
      const member = await this.members.find(name);
      if (member) this.changes.publish({ kind: "member", member: this.members.view(member) });
    }
  }
}
