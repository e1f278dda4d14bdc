/** Member status and message, derived from the stored lifecycle and the last heartbeat (DESIGN §2). */
import type { MemberLifecycle, MemberStatus } from "../domain/types.ts";

export interface Liveness {
  status: MemberStatus;
  message: string;
}

/**
 * Lifecycle states win; otherwise Pending before the first heartbeat, Offline once the last
 * heartbeat is older than the threshold, else Online.
 */
export function deriveLiveness(
  state: MemberLifecycle,
  lastHeartbeatMs: number | null,
  nowMs: number,
  offlineThresholdS: number,
): Liveness {
  if (state === "EVACUATING") return { status: "Evacuating", message: "Unavailable due to maintenance (evacuating)" };
  if (state === "EVACUATED") return { status: "Evacuated", message: "Unavailable due to maintenance" };
  if (state === "RESTORING") return { status: "Restoring", message: "Unavailable due to maintenance (restoring)" };
  if (lastHeartbeatMs === null) return { status: "Pending", message: "Waiting for the first heartbeat" };
  const ageS = Math.max(0, Math.floor((nowMs - lastHeartbeatMs) / 1000));
  if (nowMs - lastHeartbeatMs > offlineThresholdS * 1000) {
    return { status: "Offline", message: `No heartbeat for ${ageS}s` };
  }
  return { status: "Online", message: "Fully operational" };
}
