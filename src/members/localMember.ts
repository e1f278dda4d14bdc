/** The embedded local member: this machine's real resources via systeminformation, heartbeating in-process. */
import { readFile, statfs } from "node:fs/promises";
import { loadavg, uptime } from "node:os";
import { dirname, resolve } from "node:path";
import type si from "systeminformation";
import type { MemberResources, MemberStateReport } from "../domain/types.ts";

/** Maps Node/systeminformation architecture names to LXD's. */
export function lxdArchitecture(arch: string): string {
  const map: Record<string, string> = { x64: "x86_64", arm64: "aarch64", arm: "armv7l", ia32: "i686", ppc64: "ppc64le", s390x: "s390x" };
  return map[arch] ?? arch;
}

interface StaticInfo {
  architecture: string;
  cpus: number;
  gpus: { vendor: string; model: string; memory: number }[];
}

// Loaded when the local member is first probed: a service without one does not pay its ~60 ms at start.
let systeminformation: Promise<typeof si> | undefined;
const loadSi = () => (systeminformation ??= import("systeminformation").then((m) => m.default));

export class LocalProbe {
  private staticInfo: Promise<StaticInfo> | null = null;

  /**
   * pools: storage pool name → a directory on the filesystem that holds it; by default the data
   * directory's filesystem is the pool "local" (an agent maps its own, see src/agent).
   */
  constructor(dataDir: string, private readonly pools: Record<string, string> = { local: dataDir }) {}

  /** cpu, os and graphics never change while we run: read them once. */
  private static(): Promise<StaticInfo> {
    this.staticInfo ??= (async () => {
      const si = await loadSi();
      const [cpu, os, graphics] = await Promise.all([
        si.cpu(),
        si.osInfo(),
        si.graphics().catch(() => ({ controllers: [] as si.Systeminformation.GraphicsControllerData[] })),
      ]);
      return {
        architecture: lxdArchitecture(os.arch || process.arch),
        cpus: cpu.cores || 1,
        gpus: graphics.controllers
          .filter((g) => g.vendor || g.model)
          .map((g) => ({ vendor: g.vendor ?? "", model: g.model ?? "", memory: (g.vram ?? 0) * 1024 * 1024 })),
      };
    })();
    return this.staticInfo;
  }

  async architecture(): Promise<string> {
    return (await this.static()).architecture;
  }

  /** One reading of resources and state. Never throws: a failed probe reports what it could. */
  async read(): Promise<{ resources: MemberResources; state: MemberStateReport }> {
    const info = await this.static();
    const si = await loadSi();
    const [mem, spaces, processes] = await Promise.all([
      si.mem(),
      Promise.all(Object.entries(this.pools).map(async ([name, dir]) => [name, await space(resolve(dir))] as const)),
      countProcesses(),
    ]);
    const [l1, l5, l15] = loadavg();
    const pools: Record<string, { total: number; used: number }> = Object.fromEntries(spaces);
    const resources: MemberResources = {
      cpu: { architecture: info.architecture, total: info.cpus },
      memory: { total: mem.total, used: mem.active },
      storage: { pools },
      gpu: { total: info.gpus.length, cards: info.gpus },
      load: { average_1m: l1, average_5m: l5, average_15m: l15, processes },
    };
    const state: MemberStateReport = {
      sysinfo: {
        uptime: Math.round(uptime()),
        load_averages: [l1, l5, l15],
        total_ram: mem.total,
        free_ram: mem.available,
        processes,
        logical_cpus: info.cpus,
      },
      storage_pools: Object.fromEntries(Object.entries(pools).map(([name, space]) => [name, { space }])),
    };
    return { resources, state };
  }
}

/**
 * The size and use of the filesystem holding dir, from statfs(2): no child process (systeminformation's
 * fsSize runs `df` synchronously, which blocked the agent's event loop at every heartbeat). A pool
 * directory that does not exist yet is on its nearest existing parent's filesystem; zero where none
 * can be read.
 */
async function space(dir: string): Promise<{ total: number; used: number }> {
  for (let at = dir; ; at = dirname(at)) {
    try {
      const fs = await statfs(at);
      return { total: fs.blocks * fs.bsize, used: (fs.blocks - fs.bfree) * fs.bsize };
    } catch {
      if (dirname(at) === at) return { total: 0, used: 0 };
    }
  }
}

/** Total processes from /proc/loadavg ("0.1 0.2 0.3 1/234 5678"); 0 where there is no /proc. */
async function countProcesses(): Promise<number> {
  try {
    const text = await readFile("/proc/loadavg", "utf8");
    return Number(text.split(" ")[3]?.split("/")[1]) || 0;
  } catch {
    return 0;
  }
}
