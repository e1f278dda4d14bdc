/** `berth storage ...`: storage pools (shared drivers let an instance start on any member). */
import type { Command } from "commander";
import { isRemoteDriver, type StoragePool } from "../../domain/types.ts";
import { collect, parseAssignments } from "../args.ts";
import { contextOf, seg } from "../context.ts";
import type { Column } from "../output.ts";

const POOL_COLUMNS: Column<StoragePool>[] = [
  { header: "NAME", value: (p) => p.name },
  { header: "DRIVER", value: (p) => p.driver },
  { header: "SHARED", value: (p) => (isRemoteDriver(p.driver) ? "yes" : "no") },
  { header: "DESCRIPTION", value: (p) => p.description },
];

export function registerStorageCommands(program: Command): void {
  const storage = program.command("storage").description("Manage storage pools");

  storage
    .command("create")
    .description("Create a storage pool (ceph, cephfs, powerflex, pure and nfs are shared; dir, zfs, btrfs, lvm are local)")
    .argument("<name>", "pool name")
    .argument("<driver>", "driver")
    .option("--description <text>", "description")
    .option("-c, --config <key=value>", "pool config key (repeatable)", collect)
    .action(async (name: string, driver: string, opts: { description?: string; config?: string[] }, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      const body: Record<string, unknown> = { name, driver };
      if (opts.description !== undefined) body.description = opts.description;
      if (opts.config?.length) body.config = parseAssignments(opts.config);
      const pool = await client.post<StoragePool>("/1.0/storage-pools", body);
      out.done(`Storage pool ${name} created`, pool);
    });

  storage
    .command("list")
    .alias("ls")
    .description("List storage pools")
    .action(async (_opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      out.list(await client.get<StoragePool[]>("/1.0/storage-pools", { recursion: 1 }), POOL_COLUMNS);
    });

  storage
    .command("show")
    .description("Show a storage pool")
    .argument("<name>", "pool name")
    .action(async (name: string, _opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      out.object(await client.get<StoragePool>(`/1.0/storage-pools/${seg(name)}`));
    });

  storage
    .command("delete")
    .alias("rm")
    .description("Delete a storage pool")
    .argument("<name>", "pool name")
    .action(async (name: string, _opts: object, cmd: Command) => {
      const { client, out } = contextOf(cmd);
      await client.delete(`/1.0/storage-pools/${seg(name)}`);
      out.done(`Storage pool ${name} deleted`);
    });
}
