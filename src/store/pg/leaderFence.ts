/**
 * Fencing of the leader's writes on PostgreSQL (store.ts, asLeader): the statement every fenced
 * transaction runs first, and the verdict on what it read. FOR SHARE: a new leader's takeover (an
 * update of the same row, pgChannel.ts tryLead) waits until the fenced transactions running now
 * end, and every one that begins after it reads the new epoch.
 */
import { LeaseLost, type LeaderFence } from "../store.ts";

export const LEASE_EPOCH_FOR_SHARE = "select epoch from leases where name = 'leader' for share";

/** Throws LeaseLost (after telling the fence) unless the lease read is at the fence's epoch. */
export function checkFence(fence: LeaderFence, rows: readonly Record<string, unknown>[]): void {
  const found = rows.length === 0 ? null : Number(rows[0].epoch);
  if (found === fence.epoch) return;
  const err = new LeaseLost(fence.epoch, found);
  fence.lost(err);
  throw err;
}
