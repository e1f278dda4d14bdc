/** A record-only member of 8 cpus, 16 GiB and a 100 GiB default pool, with `extra` over it (POST /1.0/cluster/members). */
export function memberBody(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    server_name: name,
    resources: { cpu: { total: 8 }, memory: { total: 16 * 1024 ** 3 }, storage: { pools: { default: { total: 100 * 1024 ** 3 } } } },
    ...extra,
  };
}
