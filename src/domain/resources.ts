/** Filling in partly declared resources, so every member has the full §2 shape. */
import type { MemberResources } from "./types.ts";

export interface PartialResources {
  cpu?: { architecture?: string; total: number };
  memory?: { total: number; used?: number };
  storage?: { pools: Record<string, { total: number; used?: number; driver?: string }> };
  gpu?: { total?: number; cards?: { vendor?: string; model?: string; memory?: number }[] };
  load?: { average_1m?: number; average_5m?: number; average_15m?: number; processes?: number };
}

export function completeResources(input: PartialResources, architecture: string): MemberResources {
  const cards = (input.gpu?.cards ?? []).map((c) => ({ vendor: c.vendor ?? "", model: c.model ?? "", memory: c.memory ?? 0 }));
  const pools: MemberResources["storage"]["pools"] = {};
  for (const [name, space] of Object.entries(input.storage?.pools ?? {})) pools[name] = space.driver ? { total: space.total, used: space.used ?? 0, driver: space.driver } : { total: space.total, used: space.used ?? 0 };
  return {
    cpu: { architecture: input.cpu?.architecture ?? architecture, total: input.cpu?.total ?? 0 },
    memory: { total: input.memory?.total ?? 0, used: input.memory?.used ?? 0 },
    storage: { pools },
    gpu: { total: input.gpu?.total ?? cards.length, cards },
    load: {
      average_1m: input.load?.average_1m ?? 0,
      average_5m: input.load?.average_5m ?? 0,
      average_15m: input.load?.average_15m ?? 0,
      processes: input.load?.processes ?? 0,
    },
  };
}
