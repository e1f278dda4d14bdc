/**
 * What a filter is: one file exporting a `Filter`, listed once in `FILTERS` (index.ts). The chain
 * gives each filter an id (its index + 1); for every member a filter drops it records that id
 * and a one-byte detail of its own in `Verdicts`, plus, when its reason needs figures that may
 * change before anyone reads it, numbers. Nothing is shared between filters but this record, so
 * a new filter needs no code number, no change to the formatting, and the chain has no set size.
 */
import type { PreparedRequest } from "../prepared.ts";
import type { MemberInfo, PlacementRequest, Rejection, SchedulerConfig } from "../types.ts";

export interface Filter {
  /** Prefixes every reason ("status: member is Offline") and keys the rejection counts. */
  readonly name: string;
  /**
   * Narrows list[0..count) in place, keeping survivors in slot order, and returns how many are
   * left. For each member it drops: `verdicts.by[slot] = id`, optionally `verdicts.detail[slot]`
   * (0–255, its own meaning), and optionally numbers appended to `verdicts.numbers` (see
   * Verdicts), as many as recordLength(detail) says. Returns `count` at once when the request
   * cannot trip it. Runs on every decision: no allocation and no method call per member.
   */
  apply(p: PreparedRequest, list: Int32Array, count: number, verdicts: Verdicts, id: number): number;
  /** The reason sentence after "name: ", built only when someone reads the rejections. */
  describe(f: RejectionFacts): string;
  /** How many numbers apply() appended for a member it dropped with this detail; none when absent. */
  recordLength?(detail: number): number;
  /** Structured fields added to the rejection beside the sentence (the resources filter's `insufficient`). */
  details?(f: RejectionFacts): RejectionDetails;
}

/** The optional structured fields of a Rejection that a filter may fill. */
export type RejectionDetails = Partial<Omit<Rejection, "member" | "filter" | "reason">>;

/** What describe() and details() may use, as captured when the member was dropped. */
export interface RejectionFacts {
  /** The member as it was at decision time (infos are replaced, never mutated). */
  info: MemberInfo;
  /** The filter's detail for this member (0 when it set none). */
  detail: number;
  /** The numbers the filter appended for this member (recordLength(detail) of them). */
  numbers: Float64Array;
  request: PlacementRequest;
  config: SchedulerConfig;
}

const NO_NUMBERS = new Float64Array(0);

/** Who dropped each member and why, for one decision; read later, when reasons are formatted. */
export class Verdicts {
  /** Per slot: 0 = not dropped, else the id of the filter that dropped it. */
  readonly by: Uint16Array;
  /** Per slot: the dropping filter's detail (which status, which resources, ...). */
  readonly detail: Uint8Array;
  /**
   * Numbers filters keep for their reasons (figures that may change before anyone reads them),
   * numbers[0..used) taken. A filter appends its records in the order it drops members — slot
   * order — keeping `numbers` and `used` in locals while it scans, calling room() before it
   * writes past the end, and storing `used` back when done. Filters run one after another, so
   * the records are in chain order, then slot order, and recordLength() finds each member's.
   */
  numbers: Float64Array = NO_NUMBERS;
  used = 0;

  constructor(readonly size: number) {
    // Three bytes per member in one backing store: a decision allocates this once, and its
    // size shows in the time per decision (allocation and garbage collection).
    const buffer = new ArrayBuffer(size * 3);
    this.by = new Uint16Array(buffer, 0, size);
    this.detail = new Uint8Array(buffer, size * 2, size);
  }

  /** Grows `numbers`, keeping what it holds, to at least `total` (and at least double); returns it. */
  room(total: number): Float64Array {
    if (total > this.numbers.length) {
      const grown = new Float64Array(Math.max(64, total, 2 * this.numbers.length));
      grown.set(this.numbers);
      this.numbers = grown;
    }
    return this.numbers;
  }
}

/** Filter ids are stored in 16 bits: a chain longer than this is refused, not silently wrapped. */
export const MAX_FILTERS = 0xffff;
