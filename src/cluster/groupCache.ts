/**
 * The cluster groups in memory: few, and read on every member view and targeted placement. Loaded
 * at start-up and after every write GroupService or MemberService makes to groups.
 */
import { badRequest, notFound } from "../domain/errors.ts";
import { checkName } from "../domain/names.ts";
import type { ClusterGroup } from "../domain/types.ts";
import type { Store } from "../store/store.ts";

export class GroupCache {
  private groups = new Map<string, ClusterGroup>();
  private byMember = new Map<string, string[]>();

  constructor(private readonly store: Store) {}

  async load(): Promise<void> {
    const groups = await this.store.listGroups();
    const byMember = new Map<string, string[]>();
    for (const group of groups) {
      for (const member of group.members) {
        const list = byMember.get(member);
        if (list) list.push(group.name);
        else byMember.set(member, [group.name]);
      }
    }
    this.groups = new Map(groups.map((g) => [g.name, g]));
    this.byMember = byMember;
  }

  list(): ClusterGroup[] {
    return [...this.groups.values()];
  }

  get(name: string): ClusterGroup {
    const group = this.groups.get(name);
    if (!group) throw notFound(`Cluster group "${name}" not found`);
    return group;
  }

  exists(name: string): boolean {
    return this.groups.has(name);
  }

  /** The groups a member belongs to, by name. */
  ofMember(member: string): string[] {
    return this.byMember.get(member) ?? [];
  }

  /**
   * Groups must exist and a member keeps at least one (LXD: new members join "default"; a member
   * may leave "default" only for another group). Returns them sorted, once each.
   */
  checkGroups(groups: string[]): string[] {
    if (groups.length === 0) throw badRequest("groups: a member must belong to at least one cluster group");
    const out = new Set<string>();
    for (const group of groups) {
      checkName("groups[]", group);
      if (!this.groups.has(group)) throw badRequest(`groups: cluster group "${group}" does not exist`);
      out.add(group);
    }
    return [...out].sort();
  }
}
