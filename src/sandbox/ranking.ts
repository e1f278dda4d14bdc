/**
 * How a place call's candidate list travels. The main thread numbers every member name it sends to a
 * worker once (CandidateIds) and from then on sends a new ranking as uint32 ids beside the call's
 * JSON (channel.ts); the worker keeps the list as replica slots (Ranking). At 1,000 candidates,
 * stringifying and parsing the names cost more than the rest of the call's plumbing together.
 * A ranking equal to the worker's previous one is not sent at all.
 */
import type { Replica } from "./replica.ts";

/** Main thread, one per worker: name -> id, in the order the worker learns them. */
export class CandidateIds {
  private readonly ids = new Map<string, number>();

  /** The ids of `names`; names the worker has not been told yet are appended to `fresh`. */
  of(names: readonly string[], fresh: string[]): Uint32Array {
    const out = new Uint32Array(names.length);
    for (let i = 0; i < names.length; i++) {
      let id = this.ids.get(names[i]);
      if (id === undefined) {
        id = this.ids.size;
        this.ids.set(names[i], id);
        fresh.push(names[i]);
      }
      out[i] = id;
    }
    return out;
  }
}

/**
 * Worker side: the candidate list of the last place call, sent as names or as ids. `version` changes
 * with every new list, so a session can tell whether its guest already holds this one.
 */
export class Ranking {
  version = 0;
  private names: readonly string[] | null = null;
  private ids: Uint32Array | null = null;
  private readonly idNames: string[] = []; // id -> name (CandidateIds' numbering)
  private readonly idSlots: number[] = []; // id -> replica slot, -1 until the replica knows the name
  private resolved: { membersVersion: number; slots: Uint32Array | string } | null = null;
  private marks: { from: Uint32Array; of: Uint8Array } | null = null; // slot -> 1 for the candidates in `from`

  /** Names the main thread numbered for this worker, in order. */
  learn(fresh: readonly string[]): void {
    for (const name of fresh) {
      this.idNames.push(name);
      this.idSlots.push(-1);
    }
  }

  setNames(names: readonly string[]): void {
    this.names = names;
    this.ids = null;
    this.changed();
  }

  setIds(ids: Uint32Array): void {
    this.ids = ids;
    this.names = null;
    this.changed();
  }

  private changed(): void {
    this.version++;
    this.resolved = null;
  }

  /** The candidates as replica slots (members removed since the ranking left out), or an id the worker never learnt. */
  slots(replica: Replica): Uint32Array | string {
    const r = this.resolved;
    if (r !== null && r.membersVersion === replica.membersVersion) return r.slots;
    const slots = this.ids ? this.slotsOfIds(replica, this.ids) : this.slotsOfNames(replica, this.names ?? []);
    this.resolved = { membersVersion: replica.membersVersion, slots };
    return slots;
  }

  /** Whether `slot` is one of the candidates (as last resolved by slots()). */
  isCandidate(slot: number): boolean {
    const r = this.resolved;
    if (r === null || typeof r.slots === "string") return false;
    if (this.marks === null || this.marks.from !== r.slots) {
      let top = 0;
      for (const s of r.slots) if (s > top) top = s;
      const of = new Uint8Array(top + 1);
      for (const s of r.slots) of[s] = 1;
      this.marks = { from: r.slots, of };
    }
    return this.marks.of[slot] === 1;
  }

  /**
   * A candidate the replica no longer has was removed after the scheduler ranked it (the ranking is
   * made before the call waits for a worker): it is left out, as it is no member any more. The
   * scheduler re-checks whatever the scriptlet chooses.
   */
  private slotsOfIds(replica: Replica, ids: Uint32Array): Uint32Array | string {
    const slots = new Uint32Array(ids.length);
    let kept = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      let slot = this.idSlots[id];
      if (slot === undefined) return `#${id}`; // never learnt: a bug in the protocol, reported as unknown
      if (slot < 0) slot = this.idSlots[id] = replica.slotOf(this.idNames[id]); // slots are never reused
      if (slot < 0 || replica.nameAt(slot) === null) continue;
      slots[kept++] = slot;
    }
    return kept === ids.length ? slots : slots.slice(0, kept);
  }

  private slotsOfNames(replica: Replica, names: readonly string[]): Uint32Array | string {
    const slots = new Uint32Array(names.length);
    let kept = 0;
    for (let i = 0; i < names.length; i++) {
      const slot = replica.memberSlot(names[i]);
      if (slot >= 0) slots[kept++] = slot; // else removed after the ranking: left out (see slotsOfIds)
    }
    return kept === names.length ? slots : slots.slice(0, kept);
  }
}
