/**
 * The agent's side of the agent ↔ service protocol (src/domain/agentProtocol.ts): the protocol's
 * types, and how the agent reads an instance's keys and boot settings.
 */
import { DRIVER_NAMES } from "../domain/agentProtocol.ts";

export { DRIVER_NAMES };
export type { DriverName, DesiredPower, ObservedStatus, DesiredInstance, MigrationOffer, AgentRequest, AgentAnswer, DesiredState, ObservedInstance, HeartbeatBody, HeartbeatAnswer } from "../domain/agentProtocol.ts";

/** "project/name": how the agent keys its instances. */
export const instanceKey = (i: { project: string; name: string }): string => `${i.project}/${i.name}`;

/** boot.host_shutdown_timeout in seconds (default 30): how long a clean stop may take before the kill. */
export function shutdownTimeoutS(config: Record<string, string>): number {
  const value = Number(config["boot.host_shutdown_timeout"]);
  return config["boot.host_shutdown_timeout"] !== undefined && Number.isFinite(value) && value >= 0 ? value : 30;
}

/** boot.autorestart: restart an instance that died while it should run. */
export function autorestart(config: Record<string, string>): boolean {
  return config["boot.autorestart"] === "true" || config["boot.autorestart"] === "1";
}
