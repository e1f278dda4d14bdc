/** The hook driver with small shell scripts as hooks, and the none driver's bookkeeping. */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDriver } from "../../src/agent/drivers/index.ts";
import { checkHooksDir, HookDriver } from "../../src/agent/drivers/hook.ts";
import { NoneDriver } from "../../src/agent/drivers/none.ts";
import { desiredInstance } from "./fakeService.ts";
import { cleanUpData, driverContext, tempDir } from "./support.ts";

let data: string;
let hooks: string;

beforeEach(() => {
  data = tempDir("hooks");
  hooks = join(data, "hooks");
  mkdirSync(hooks);
});
afterEach(() => cleanUpData(data));

function hook(name: string, body: string): void {
  writeFileSync(join(hooks, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(hooks, name), 0o755);
}

/** Hooks that keep each instance's state in a file named after it, and record what they were given. */
function bookkeepingHooks(): void {
  const state = join(data, "state");
  mkdirSync(state);
  hook("start", `cat > "${state}/$BERTH_PROJECT.$BERTH_INSTANCE.json"; echo "$BERTH_MEMBER" > "${state}/$BERTH_INSTANCE.member"`);
  hook("stop", `cat > /dev/null; echo "$BERTH_STOP_TIMEOUT" > "${state}/$BERTH_INSTANCE.timeout"; rm -f "${state}/$BERTH_PROJECT.$BERTH_INSTANCE.json"`);
  hook("status", `cat > /dev/null; if [ -f "${state}/$BERTH_PROJECT.$BERTH_INSTANCE.json" ]; then echo Running; else echo Stopped; fi`);
}

describe("hook driver", () => {
  it("runs start, status and stop with the instance JSON on stdin and its names in the environment", async () => {
    bookkeepingHooks();
    const driver = new HookDriver(driverContext(data, "node3"), hooks);
    const instance = desiredInstance("web", "Running", { "user.port": "8080" });
    expect(await driver.status(instance)).toEqual({ status: "Stopped" });
    await driver.start(instance);
    expect(await driver.status(instance)).toEqual({ status: "Running" });
    expect(JSON.parse(readFileSync(join(data, "state", "default.web.json"), "utf8"))).toEqual(instance);
    expect(readFileSync(join(data, "state", "web.member"), "utf8")).toBe("node3\n");
    await driver.stop(instance, 12);
    expect(readFileSync(join(data, "state", "web.timeout"), "utf8")).toBe("12\n");
    expect(await driver.status(instance)).toEqual({ status: "Stopped" });
    expect(await driver.log()).toBe("");
  });

  it("a hook that exits non-zero fails with its stderr as the message", async () => {
    bookkeepingHooks();
    hook("start", `echo "no room for $BERTH_INSTANCE on this host" >&2; exit 4`);
    const driver = new HookDriver(driverContext(data), hooks);
    await expect(driver.start(desiredInstance("db", "Running"))).rejects.toThrow("start hook failed (exit 4): no room for db on this host");
  });

  it("a status hook that fails or prints something else makes the instance Error with the reason", async () => {
    bookkeepingHooks();
    const driver = new HookDriver(driverContext(data), hooks);
    hook("status", `echo Maybe`);
    expect(await driver.status(desiredInstance("a", "Running"))).toEqual({ status: "Error", reason: 'the status hook printed "Maybe", not Running or Stopped' });
    hook("status", `echo "cannot reach the hypervisor" >&2; exit 1`);
    expect(await driver.status(desiredInstance("a", "Running"))).toEqual({ status: "Error", reason: "status hook failed (exit 1): cannot reach the hypervisor" });
  });

  it("refuses a hooks directory without the three executables, naming each", async () => {
    hook("start", "exit 0");
    writeFileSync(join(hooks, "stop"), "#!/bin/sh\n"); // not executable
    await expect(checkHooksDir(hooks)).rejects.toThrow(`${join(hooks, "stop")} (not executable), ${join(hooks, "status")} (missing)`);
    await expect(createDriver("hook", driverContext(data))).rejects.toThrow(/needs --hooks DIR/);
  });
});

describe("none driver", () => {
  it("observes what it was last told at once, and remembers it across restarts of the agent", async () => {
    const driver = new NoneDriver(driverContext(data));
    const instance = desiredInstance("rec", "Running");
    expect(await driver.status(instance)).toEqual({ status: "Stopped" });
    await driver.start(instance);
    expect((await driver.status(instance)).status).toBe("Running");
    await driver.start(instance); // idempotent
    expect((await new NoneDriver(driverContext(data)).status(instance)).status).toBe("Running");
    await driver.stop(instance);
    expect(await driver.status(instance)).toEqual({ status: "Stopped" });
    expect(await driver.log()).toBe("");
    expect(existsSync(join(data, "instances", "default", "rec", "state.json"))).toBe(true);
  });
});
