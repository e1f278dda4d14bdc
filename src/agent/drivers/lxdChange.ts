/**
 * A change Berth made to an instance, applied to its LXD container (the lxd driver's update):
 * a three-way merge, as `kubectl apply` does. Berth changed its definition from `previous` to
 * `next`; LXD has `current`. Keys and devices Berth sets are set, those it dropped are dropped,
 * and everything else the container has stays: LXD's own keys (volatile.*, image.*, which LXD
 * refuses to lose) and whatever an operator set there by hand.
 */

/** The part of an LXD instance Berth defines. */
export interface LxdDefinition {
  config: Record<string, string>;
  devices: Record<string, Record<string, string>>;
  profiles: string[];
  description: string;
}

export function mergeChange(current: LxdDefinition, previous: LxdDefinition, next: LxdDefinition): LxdDefinition {
  return {
    config: mergeMap(current.config, previous.config, next.config),
    devices: mergeMap(current.devices, previous.devices, next.devices),
    profiles: next.profiles,
    description: next.description,
  };
}

function mergeMap<T>(current: Record<string, T>, previous: Record<string, T>, next: Record<string, T>): Record<string, T> {
  const merged = { ...current };
  for (const key of Object.keys(previous)) if (!(key in next)) delete merged[key];
  return { ...merged, ...next };
}

/** Whether two definitions are the same (key order aside). */
export function sameDefinition(a: LxdDefinition, b: LxdDefinition): boolean {
  return canonical(a) === canonical(b);
}

function canonical(d: LxdDefinition): string {
  const sorted = <T>(map: Record<string, T>) => Object.fromEntries(Object.entries(map).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
  const devices = Object.fromEntries(Object.entries(sorted(d.devices)).map(([name, device]) => [name, sorted(device)]));
  return JSON.stringify([sorted(d.config), devices, d.profiles, d.description]);
}
