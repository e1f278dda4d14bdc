/** How full a member would be once this request lands: the input of spread and pack. */
import type { PreparedRequest } from "../prepared.ts";

function fraction(used: number, offered: number): number {
  if (offered > 0) return used / offered;
  return used > 0 ? 1 : 0; // a member offering nothing is full once anything lands
}

/** Mean of the cpu and memory allocated fractions (after the allocation ratios) after placing. */
export function allocatedAfter(p: PreparedRequest, slot: number): number {
  const c = p.columns;
  const cpu = fraction(c.cpuRequestedMilli[slot] + p.cpuMilli, c.cpuCapacityMilli[slot]);
  const memory = fraction(c.memoryRequested[slot] + p.memory, c.memoryCapacity[slot]);
  return (cpu + memory) / 2;
}
