/** Picks the driver an agent was started with. */
import type { DriverName } from "../protocol.ts";
import type { Driver, DriverContext } from "./driver.ts";
import { checkHooksDir, HookDriver } from "./hook.ts";
import { NoneDriver } from "./none.ts";
import { ProcessDriver } from "./process.ts";

export async function createDriver(name: DriverName, ctx: DriverContext, hooksDir?: string): Promise<Driver> {
  switch (name) {
    case "none":
      return new NoneDriver(ctx);
    case "process":
      return new ProcessDriver(ctx);
    case "hook":
      if (!hooksDir) throw new Error("The hook driver needs --hooks DIR (a directory with executables start, stop and status)");
      await checkHooksDir(hooksDir);
      return new HookDriver(ctx, hooksDir);
  }
}
