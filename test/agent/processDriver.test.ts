/**
 * The process driver with real processes: a supervisor per instance (from source, through tsx),
 * running a shell command that writes its pid and a timestamp to a file every 100 ms.
 */
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ProcessDriver, LOG_TAIL_BYTES } from "../../src/agent/drivers/process.ts";
import { desiredInstance } from "./fakeService.ts";
import { alive, cleanUpData, driverContext, groupAlive, recordedProcesses, tempDir, tickerCommand, tickPidsAfter, ticks, waitUntil } from "./support.ts";

let data: string;
let out: string;

beforeEach(() => {
  data = tempDir("process-driver");
  out = join(data, "ticks.txt");
});
afterEach(() => cleanUpData(data));

const ticker = (name = "web", config: Record<string, string> = {}) =>
  desiredInstance(name, "Running", { "exec.command": tickerCommand(out), ...config });

describe("process driver", () => {
  it("starts the command under a supervisor, reports it Running with its pid, and stops it", async () => {
    const driver = new ProcessDriver(driverContext(data));
    const instance = ticker();
    await driver.start(instance);
    const running = await driver.status(instance);
    expect(running.status).toBe("Running");
    await waitUntil(() => ticks(out).length >= 3, "the command ticks");
    // One process writes, and it is the one reported.
    expect([...tickPidsAfter(out, 0)]).toEqual([running.pid]);
    const [{ supervisor, group }] = recordedProcesses(data);
    expect(alive(supervisor)).toBe(true);
    expect(group).toBe(running.pid);

    await driver.stop(instance, 5);
    expect(await driver.status(instance)).toEqual({ status: "Stopped" });
    expect(groupAlive(running.pid!)).toBe(false);
    await waitUntil(() => !alive(supervisor), "the supervisor exits");
    const count = ticks(out).length;
    await new Promise((r) => setTimeout(r, 400)); // four ticks' worth: nothing more is written
    expect(ticks(out).length).toBe(count);
  });

  it("is idempotent: a second start keeps the one copy, a second stop does nothing", async () => {
    const driver = new ProcessDriver(driverContext(data));
    const instance = ticker();
    await driver.start(instance);
    const { pid } = await driver.status(instance);
    await driver.start(instance);
    expect((await driver.status(instance)).pid).toBe(pid);
    await waitUntil(() => ticks(out).length >= 5, "ticks");
    expect([...tickPidsAfter(out, 0)]).toEqual([pid]);
    await driver.stop(instance, 5);
    await driver.stop(instance, 5);
    expect((await driver.status(instance)).status).toBe("Stopped");
  });

  it("a driver of a restarted agent adopts the running instance instead of starting a second copy", async () => {
    const instance = ticker();
    await new ProcessDriver(driverContext(data)).start(instance);
    const first = recordedProcesses(data)[0];
    await waitUntil(() => ticks(out).length >= 2, "ticks");

    const restarted = new ProcessDriver(driverContext(data)); // nothing in memory: only <data>
    const seen = await restarted.status(instance);
    expect(seen.status).toBe("Running");
    expect(seen.pid).toBe(first.group);
    await restarted.start(instance);
    const before = ticks(out).length;
    await waitUntil(() => ticks(out).length >= before + 5, "more ticks");
    expect([...tickPidsAfter(out, 0)]).toEqual([first.group]);
    expect(recordedProcesses(data)).toEqual([first]);
  });

  it("gives the command BERTH_INSTANCE, BERTH_PROJECT, BERTH_MEMBER and appends its output to the instance log", async () => {
    const driver = new ProcessDriver(driverContext(data, "node7"));
    const instance = desiredInstance("job", "Running", {
      "exec.command": `echo "env $BERTH_INSTANCE $BERTH_PROJECT $BERTH_MEMBER"; echo oops >&2; exec sleep 60`,
    }, "blue");
    await driver.start(instance);
    await waitUntil(async () => (await driver.log(instance)).includes("oops"), "the output reaches the log");
    const log = readFileSync(join(data, "logs", "blue", "job.log"), "utf8");
    expect(log).toContain("env job blue node7\n");
    expect(log).toContain("oops\n");
    expect(await driver.log(instance)).toBe(log);
    await driver.stop(instance, 5);
  });

  it("answers a log request with the last 64 KiB of the log", async () => {
    const driver = new ProcessDriver(driverContext(data));
    const instance = desiredInstance("big", "Running", {
      // 100,000 lines of "line N" is far over 64 KiB; the last line is known.
      "exec.command": `i=0; while [ $i -lt 100000 ]; do i=$((i+1)); echo "line $i"; done; exec sleep 60`,
    });
    await driver.start(instance);
    await waitUntil(async () => (await driver.log(instance)).includes("line 100000\n"), "the output is written", 60_000);
    const tail = await driver.log(instance);
    expect(Buffer.byteLength(tail)).toBe(LOG_TAIL_BYTES);
    expect(statSync(join(data, "logs", "default", "big.log")).size).toBeGreaterThan(LOG_TAIL_BYTES);
    expect(tail.endsWith("line 100000\n")).toBe(true);
    await driver.stop(instance, 5);
    expect(await driver.log(desiredInstance("never-ran", "Running"))).toBe("");
  });

  it("a command that exits while it should run is Error with its exit code; killed, Error with the signal", async () => {
    const driver = new ProcessDriver(driverContext(data));
    const crashing = desiredInstance("crash", "Running", { "exec.command": `echo started >> '${out}'; sleep 0.3; exit 3` });
    await driver.start(crashing);
    await waitUntil(async () => (await driver.status(crashing)).status === "Error", "it exits");
    expect(await driver.status(crashing)).toMatchObject({ status: "Error", reason: "exited with code 3" });

    const victim = ticker("victim");
    await driver.start(victim);
    const { pid } = await driver.status(victim);
    process.kill(pid!, "SIGKILL");
    await waitUntil(async () => (await driver.status(victim)).status === "Error", "it dies");
    expect(await driver.status(victim)).toMatchObject({ status: "Error", reason: "killed by SIGKILL" });

    // A stop clears the Error; a start runs it again.
    await driver.stop(victim, 5);
    expect(await driver.status(victim)).toEqual({ status: "Stopped" });
    await driver.start(victim);
    expect((await driver.status(victim)).status).toBe("Running");
    await driver.stop(victim, 5);
  });

  it("kills a command that ignores SIGTERM once the stop time-out has passed", async () => {
    const driver = new ProcessDriver(driverContext(data));
    const stubborn = desiredInstance("stubborn", "Running", {
      "exec.command": `trap 'echo term >> "${out}"' TERM; while true; do sleep 0.1; done`,
    });
    await driver.start(stubborn);
    const { pid } = await driver.status(stubborn);
    await driver.stop(stubborn, 1);
    expect(readFileSync(out, "utf8")).toContain("term"); // it was asked first
    expect(groupAlive(pid!)).toBe(false);
    expect(await driver.status(stubborn)).toEqual({ status: "Stopped" });
    expect(readFileSync(join(data, "logs", "default", "stubborn.log"), "utf8")).toContain("SIGKILL");
  });

  it("refuses an instance without exec.command, naming it", async () => {
    const driver = new ProcessDriver(driverContext(data));
    await expect(driver.start(desiredInstance("empty", "Running"))).rejects.toThrow(/default\/empty has no exec.command/);
  });

  it("a command left running by a killed supervisor is killed before a new copy starts", async () => {
    const driver = new ProcessDriver(driverContext(data));
    const instance = ticker();
    await driver.start(instance);
    const first = recordedProcesses(data)[0];
    process.kill(first.supervisor, "SIGKILL");
    await waitUntil(() => !alive(first.supervisor), "the supervisor is gone");
    expect(groupAlive(first.group!)).toBe(true); // orphaned, still ticking
    expect(await driver.status(instance)).toMatchObject({ status: "Error", reason: `its supervisor (pid ${first.supervisor}) is gone` });

    await driver.start(instance);
    expect(groupAlive(first.group!)).toBe(false);
    const { pid } = await driver.status(instance);
    const before = ticks(out).length;
    await waitUntil(() => ticks(out).length >= before + 5, "the new copy ticks");
    expect([...tickPidsAfter(out, before + 1)]).toEqual([pid]);
  });

  it("after a reboot (another boot id) a recorded run is Stopped, so it starts again", async () => {
    const driver = new ProcessDriver(driverContext(data));
    const instance = ticker();
    await driver.start(instance);
    await driver.stop(instance, 5);
    const file = join(data, "instances", "default", "web", "state.json");
    const state = JSON.parse(readFileSync(file, "utf8"));
    writeFileSync(file, JSON.stringify({ ...state, status: "Running", supervisorPid: 999_999_999, bootId: "an-earlier-boot" }));
    expect(await driver.status(instance)).toEqual({ status: "Stopped" });
  });
});

describe("the fence deadline (docs/healing.md)", () => {
  const lease = (deadline: number | null, instances: string[], bootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim()) =>
    writeFileSync(join(data, "fence.json"), JSON.stringify({ bootId, deadline, thresholdS: 10, marginS: 2, instances }));
  const now = () => Number(process.hrtime.bigint() / 1_000_000n);

  it("the supervisor force-stops a listed instance once the lease's deadline has passed, with no agent around", async () => {
    const driver = new ProcessDriver(driverContext(data));
    const web = ticker("web");
    const other = desiredInstance("local", "Running", { "exec.command": "sleep 1000" });
    lease(now() + 3_600_000, ["default/web"]);
    await driver.start(web);
    await driver.start(other);
    const { pid } = await driver.status(web);
    const otherPid = (await driver.status(other)).pid!;
    await waitUntil(() => ticks(out).length >= 2, "it ticks");
    expect(groupAlive(pid!)).toBe(true);

    lease(now() - 1, ["default/web"]); // what the agent would have renewed, had a heartbeat been answered
    await waitUntil(() => !groupAlive(pid!), "the supervisor fences web");
    const state = JSON.parse(readFileSync(join(data, "instances", "default", "web", "state.json"), "utf8"));
    expect(state).toMatchObject({ status: "Stopped", fenced: true });
    expect(state.reason).toMatch(/fenced: no acknowledged heartbeat for 8 s/);
    expect(await driver.status(web)).toEqual({ status: "Stopped" });
    expect(readFileSync(join(data, "logs", "default", "web.log"), "utf8")).toMatch(/fenced.*SIGKILL/);
    // An instance healing would not move (not listed) runs on.
    expect(groupAlive(otherPid)).toBe(true);
    expect((await driver.status(other)).status).toBe("Running");
  });

  it("fences nothing while healing is off (deadline null) or the lease is of another boot", async () => {
    const driver = new ProcessDriver(driverContext(data));
    const a = ticker("a");
    const b = desiredInstance("b", "Running", { "exec.command": "sleep 1000" });
    lease(null, ["default/a", "default/b"]);
    await driver.start(a);
    const { pid } = await driver.status(a);
    lease(now() - 1, ["default/a", "default/b"], "another-boot");
    await driver.start(b);
    const seen = ticks(out).length;
    await waitUntil(() => ticks(out).length >= seen + 5, "a ticks on past a lease of another boot");
    expect(groupAlive(pid!)).toBe(true);
    expect((await driver.status(b)).status).toBe("Running");
  });
});
