/**
 * Changes Berth made to an instance's definition (config, devices, profiles, description) that
 * the driver has yet to apply to what runs it (lxd: the container): for each instance, the
 * definition its copy was made from. A change the driver failed to apply is tried again with the
 * instance's next change, from the same definition, so nothing of it is lost.
 */
import type { DesiredInstance } from "./protocol.ts";

export class DefinitionChanges {
  /** Changed, not applied yet: the definition before. */
  private readonly pending = new Map<string, DesiredInstance>();
  /** Failed to apply: the definition before, for the next change. */
  private readonly failed = new Map<string, DesiredInstance>();

  /** The desired state went from `before` to `after`: a change of definition is pending unless one already is. */
  note(key: string, before: DesiredInstance, after: DesiredInstance): void {
    if (this.pending.has(key) || definition(before) === definition(after)) return;
    this.pending.set(key, this.failed.get(key) ?? before);
    this.failed.delete(key);
  }

  /** Takes the pending changes of instances `ready` accepts: key and definition before. */
  take(ready: (key: string) => boolean): [string, DesiredInstance][] {
    const taken = [...this.pending].filter(([key]) => ready(key));
    for (const [key] of taken) this.pending.delete(key);
    return taken;
  }

  /** The driver could not apply the change from `previous`: the next change starts from there. */
  notApplied(key: string, previous: DesiredInstance): void {
    if (!this.failed.has(key)) this.failed.set(key, previous);
  }

  /** The instance is gone from this member. */
  forget(key: string): void {
    this.pending.delete(key);
    this.failed.delete(key);
  }
}

function definition(i: DesiredInstance): string {
  return JSON.stringify([i.config, i.devices, i.profiles, i.description]);
}
