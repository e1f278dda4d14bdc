/**
 * What one session's guest holds of the instances, so get_instances sends only what changed.
 *
 * The guest keeps frozen instances in an array by slot (a small integer this class assigns per
 * instance, per session); a get_instances answer is the instances the guest lacks or holds stale,
 * then the list as slots. When instances change between placements (an evacuation moves one per
 * placement), the next call ships a few instances instead of re-parsing every one of them.
 * Slots of instances that are gone are cleared in the guest and reused.
 */
import { instanceJson } from "./replica.ts";
import type { Replica } from "./replica.ts";

export class InstanceSync {
  private readonly slotOf = new Map<string, number>(); // instance key -> slot in the guest's cache
  private readonly held = new Map<string, number>(); // instance key -> version the guest holds
  private readonly free: number[] = [];
  private nextSlot = 0;
  private sweptAt = -1; // instancesVersion at which gone instances were last cleared

  constructor(private readonly replica: Replica) {}

  /** "updates\u0001slots" for get_instances(project, location): [[slot, instance | null]...] then [slot...]. */
  answer(project: string, location: string): string {
    const { replica } = this;
    let updates = "";
    if (this.sweptAt !== replica.instancesVersion) {
      this.sweptAt = replica.instancesVersion;
      for (const [key, slot] of this.slotOf) {
        if (replica.hasInstance(key)) continue;
        this.slotOf.delete(key);
        this.held.delete(key);
        this.free.push(slot);
        updates += `,[${slot},null]`; // before any reuse of the slot below
      }
    }
    let slots = "";
    for (const e of replica.instanceEntries(project, location)) {
      let slot = this.slotOf.get(e.key);
      if (slot === undefined) {
        slot = this.free.pop() ?? this.nextSlot++;
        this.slotOf.set(e.key, slot);
      }
      if (this.held.get(e.key) !== e.version) {
        updates += `,[${slot},${instanceJson(e)}]`;
        this.held.set(e.key, e.version);
      }
      slots += `,${slot}`;
    }
    return `[${updates.slice(1)}]\u0001[${slots.slice(1)}]`;
  }

  /** The guest failed while applying an answer: assume it holds nothing, so the next answer sends everything. */
  forget(): void {
    this.held.clear();
  }
}
