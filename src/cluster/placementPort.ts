/**
 * What the services need from placement, implemented one layer up (src/placement): decide and
 * reserve where an instance goes, reserve a change of an instance's size on its member, and tell
 * when no placement towards a member is in flight any more.
 */
import { BerthError } from "../domain/errors.ts";
import type { Instance, PlacementReason } from "../domain/types.ts";
import type { Store } from "../store/store.ts";

/**
 * The check against what is stored refused a placement (placement/confirmFit.ts): the member is
 * fuller than this process's view of it, because something was stored there that the view has
 * not heard of yet (another replica's create or move). A 409; a move may choose another member.
 */
export class NoLongerFits extends BerthError {
  constructor(message: string) {
    super(409, message);
    this.name = "NoLongerFits";
  }
}

/**
 * Inside the transaction that puts `instance` (as stored there) on `member` — a move's new
 * location — checks it fits against what is stored: the member's row is locked until the
 * transaction ends, so placements and moves onto it from every replica take turns. Throws
 * NoLongerFits, or 409 when the member is gone.
 */
export type ConfirmPlacement = (tx: Store, instance: Instance, member: string) => Promise<void>;

/** A placement decided and reserved; commit once the instance is stored (or moved), release if that fails. */
export interface PlacementTicket {
  location: string;
  /** The chosen member's architecture (what an instance that named none gets). */
  architecture: string;
  commit(): void;
  release(): void;
  /**
   * Makes the reservation match `instance` as it is now (its limits may have changed since the
   * decision): checks that what it asks beyond the reservation still fits the member, and
   * re-reserves. Throws 409 with the reason when it no longer fits (the old reservation stays until
   * released). Synchronous, like reserveResize.
   */
  refit(instance: Instance): void;
  /**
   * Inside the transaction that stores the instance (or its new limits): checks the reservation
   * against what is stored (the member's row locked until the transaction ends). Throws
   * NoLongerFits when it no longer fits. Needed when several replicas place on one database.
   */
  confirm(tx: Store): Promise<void>;
}

export interface PlacementRequestInput {
  instance: Instance;
  reason: PlacementReason;
  /** "node2" or "@group", as the ?target= query parameter. */
  target?: string;
  exclude?: string[];
}

export interface InstancePlacement {
  /** Decides and reserves; throws the BerthError a user sees (404/403 target, 409 nothing fits, 400 scriptlet). */
  place(input: PlacementRequestInput): Promise<PlacementTicket>;
  /**
   * Checks that `next` (the same instance with new limits) still fits on its member, and reserves
   * what it asks beyond `current` until the ticket is committed or released. Synchronous, so the
   * check and the reservation see the same view. Throws 409 with the reason when it does not fit;
   * returns null when nothing grows.
   */
  reserveResize(current: Instance, next: Instance): PlacementTicket | null;
  /**
   * Reserves all of `instance` on `member` without a decision (a restore moving an instance home, a
   * resumed move): checks it fits what the member has free and reserves it. Throws 409 with the
   * reason when it does not fit, or when another move of the instance holds a reservation. With
   * `confine` (a move Berth chose, such as a restore), also 409 when the member is outside the
   * instance's placement group (volatile.cluster.group) or its project's restricted.cluster.groups.
   */
  reserveAt(instance: Instance, member: string, confine?: boolean): PlacementTicket;
  /** Resolves once no reservation on `member` is outstanding (placements and moves towards it). */
  settled(member: string): Promise<void>;
  /** Reservations outstanding on a member. */
  pendingOn(member: string): number;
  /** Resolves once the scheduler holds every stored instance (just after start they still load). */
  ready(): Promise<void>;
}
