/**
 * Instance and pending-placement counts by project and location ("" = any), kept up to date by
 * the replica's deltas, so get_instances_count costs a map lookup however many instances exist.
 */

type Entry = [created: number, pending: number];

export class Counts {
  /** project ("" = any) -> location ("" = any) -> counts */
  private readonly byProject = new Map<string, Map<string, Entry>>();

  clear(): void {
    this.byProject.clear();
  }

  /** Adds `delta` (±1) to the created (`pending` false) or pending count of one instance's place. */
  add(project: string, location: string, pending: boolean, delta: number): void {
    const which = pending ? 1 : 0;
    for (const p of project === "" ? [""] : [project, ""]) {
      let locations = this.byProject.get(p);
      if (!locations) this.byProject.set(p, (locations = new Map()));
      for (const l of location === "" ? [""] : [location, ""]) {
        let entry = locations.get(l);
        if (!entry) locations.set(l, (entry = [0, 0]));
        entry[which] += delta;
        if (entry[0] === 0 && entry[1] === 0) locations.delete(l);
      }
    }
  }

  /** Instances matching the filters, plus pending placements when `pending`. */
  count(project: string, location: string, pending: boolean): number {
    const entry = this.byProject.get(project)?.get(location);
    return entry ? entry[0] + (pending ? entry[1] : 0) : 0;
  }

  /** The counts of `project` ("" = any) by location, as JSON {"location": n} (locations with 0 left out). */
  byLocationJson(project: string, pending: boolean): string {
    const out: Record<string, number> = {};
    for (const [location, [created, inFlight]] of this.byProject.get(project) ?? []) {
      const n = created + (pending ? inFlight : 0);
      if (location !== "" && n > 0) out[location] = n;
    }
    return JSON.stringify(out);
  }
}
