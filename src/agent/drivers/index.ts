/** Picks the driver an agent was started with. */
import type { DriverName } from "../protocol.ts";
import type { Driver, DriverContext } from "./driver.ts";
import { checkHooksDir, HookDriver } from "./hook.ts";
import { LxdDriver } from "./lxd.ts";
import { defaultLxdSocket, LxdClient } from "./lxdClient.ts";
import { NoneDriver } from "./none.ts";
import { ProcessDriver } from "./process.ts";

export async function createDriver(name: DriverName, ctx: DriverContext, hooksDir?: string, lxdSocket?: string): Promise<Driver> {
  switch (name) {
    case "none":
      return new NoneDriver(ctx);
    case "process":
      return new ProcessDriver(ctx);
    case "hook":
      if (!hooksDir) throw new Error("The hook driver needs --hooks DIR (a directory with executables start, stop and status)");
      await checkHooksDir(hooksDir);
      return new HookDriver(ctx, hooksDir);
    case "lxd": {
      const client = new LxdClient(lxdSocket ?? defaultLxdSocket());
      try {
        await client.get("/1.0");
      } catch (err) {
        throw new Error(`The lxd driver cannot reach LXD at ${client.socketPath} (pass --lxd-socket PATH, or set LXD_SOCKET or LXD_DIR): ${(err as Error).message}`, { cause: err });
      }
      return new LxdDriver(ctx, client);
    }
  }
}
