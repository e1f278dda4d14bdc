import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Operation } from "../../src/domain/types.ts";
import { BerthClient, CliError } from "../../src/cli/client.ts";
import { followOperation } from "../../src/cli/progress.ts";
import { ADMIN_TOKEN, startCliHarness, type CliHarness } from "./cliHarness.ts";

let h: CliHarness;

async function member(name: string): Promise<void> {
  await h.api("POST", "/1.0/cluster/members", { server_name: name, resources: { cpu: { total: 8 }, memory: { total: 16 * 1024 ** 3 } } });
  await h.api("POST", `/1.0/cluster/members/${name}/heartbeat`, {});
}

async function instance(name: string, on: string, opts: { project?: string; start?: boolean; config?: Record<string, string> } = {}): Promise<void> {
  const query = `target=${on}${opts.project ? `&project=${opts.project}` : ""}`;
  await h.api("POST", `/1.0/instances?${query}`, { name, config: opts.config ?? {}, ...(opts.start ? { start: true } : {}) });
}

const where = async (name: string, project = "default") => {
  const i = await h.api("GET", `/1.0/instances/${name}?project=${project}`);
  return { location: i.location as string, status: i.status as string, config: i.config as Record<string, string> };
};
const statusOf = async (name: string) => (await h.api("GET", `/1.0/cluster/members/${name}`)).status as string;

beforeAll(async () => {
  h = await startCliHarness();
  // Set up through the API; members stay Online for the whole file.
  await h.api("PATCH", "/1.0", { config: { "cluster.offline_threshold": 3600 } });
  await h.api("POST", "/1.0/projects", { name: "p1" });
  for (const name of ["src", "keep", "ttyyes", "ttyno", "frag", "t1", "t2"]) await member(name);
  await instance("web1", "src", { start: true });
  await instance("web2", "src");
  await instance("db1", "src", { start: true, config: { "cluster.evacuate": "stop" } });
  await instance("api1", "src", { project: "p1", start: true });
  await instance("app1", "keep", { start: true });
  await instance("tty1", "ttyyes", { start: true });
  await instance("tty2", "ttyno", { start: true });
  await instance("fragile", "frag");
  await instance("sturdy", "frag");
  // Only t1 and t2 take evacuated instances, so every other member keeps exactly what it has.
  for (const name of ["src", "keep", "ttyyes", "ttyno", "frag"]) {
    await h.api("PATCH", `/1.0/cluster/members/${name}`, { config: { "scheduler.instance": "manual" } });
  }
});
afterAll(async () => { await h.close(); });

describe("berth cluster evacuate / restore", () => {
  it("evacuates with --force showing progress lines, refuses without a terminal, plans with --dry-run, then restores", async () => {
    const [evac, refused, plan, planJson] = await Promise.all([
      h.run(["cluster", "evacuate", "src", "--force"]),
      h.run(["cluster", "evac", "keep"]),
      h.ok(["cluster", "evacuate", "keep", "--dry-run"]),
      h.ok(["cluster", "evac", "keep", "--dry-run", "--mode", "stop", "--format", "json"]),
    ]);

    expect(evac.code, evac.stderr).toBe(0);
    expect(evac.stdout).toMatch(/INSTANCE\s*│\s*PROJECT\s*│\s*ACTION\s*│\s*TARGET\s*│\s*OUTCOME\s*│\s*ERROR/);
    expect(evac.stdout).toMatch(/db1\s*│\s*default\s*│\s*stop\s*│\s*│\s*stopped\s*│/);
    expect(evac.stdout).toMatch(/api1\s*│\s*p1\s*│\s*migrate\s*│\s*t[12]\s*│\s*moved\s*│/);
    expect(evac.stdout.trimEnd().split("\n").at(-1)).toBe("Evacuated src: 3 moved, 1 stopped, 0 failed");
    // Not a terminal: one plain line per step, on stderr, from the first to the last.
    const progress = evac.stderr.trimEnd().split("\n");
    expect(progress[0]).toBe('[0/4] Evacuating 4 instance(s) from "src"');
    expect(progress.some((l) => /^\[\d\/4\] Stopping "db1" in project "default"$/.test(l))).toBe(true);
    expect(progress.some((l) => /^\[\d\/4\] Migrating "api1" in project "p1" to "t[12]"$/.test(l))).toBe(true);
    expect(progress.filter((l) => l.includes("Done with"))).toHaveLength(4);
    expect(progress.at(-1)).toBe('[4/4] Evacuated "src"');
    for (const [name, project] of [["web1", "default"], ["web2", "default"], ["api1", "p1"]]) {
      expect(["t1", "t2"]).toContain((await where(name, project)).location);
    }
    expect(await where("web1")).toMatchObject({ status: "Running", config: { "volatile.evacuate.origin": "src" } });
    expect(await where("db1")).toMatchObject({ location: "src", status: "Stopped", config: { "volatile.last_state.power": "RUNNING" } });
    expect(await statusOf("src")).toBe("Evacuated");

    // No terminal and no --force: refused before any request; keep and app1 are untouched.
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toBe('Error: Refusing to evacuate cluster member "keep" without confirmation: stdin is not a terminal (add --force to skip the question)\n');
    expect(await statusOf("keep")).toBe("Online");
    expect(await where("app1")).toMatchObject({ location: "keep", status: "Running" });
    const ops: Operation[] = Object.values(await h.api("GET", "/1.0/operations?recursion=1") as Record<string, Operation[]>).flat();
    expect(ops.filter((o) => o.description.includes('"keep"'))).toEqual([]);

    expect(plan).toMatch(/INSTANCE\s*│\s*PROJECT\s*│\s*ACTION\s*│\s*TARGET\s*│\s*WHY/);
    expect(plan).toMatch(/app1\s*│\s*default\s*│\s*migrate\s*│\s*t[12]\s*│\s*default mode auto: no local dependencies/);
    expect(JSON.parse(planJson)).toEqual({
      action: "evacuate", member: "keep",
      instances: [{ project: "default", name: "app1", status: "Running", action: "stop", target: null, why: expect.stringContaining("stop") }],
    });

    const [restorePlan, notEvacuated] = await Promise.all([
      h.ok(["cluster", "restore", "src", "--dry-run"]),
      h.run(["cluster", "restore", "keep", "--force"]),
    ]);
    expect(restorePlan).toMatch(/db1\s*│\s*default\s*│\s*start\s*│\s*src/);
    expect(restorePlan).toMatch(/api1\s*│\s*p1\s*│\s*move back\s*│\s*t[12]/);
    expect(restorePlan).toMatch(/web2\s*│\s*default\s*│\s*move back\s*│\s*t[12]/);
    expect(notEvacuated.code).toBe(1);
    expect(notEvacuated.stderr).toBe('Error: Cluster member "keep" is not evacuated, nothing to restore\n');

    const restored = await h.run(["cluster", "restore", "src", "--force"]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/web1\s*│\s*default\s*│\s*move back\s*│\s*t[12]\s*│\s*moved back\s*│/);
    expect(restored.stdout.trimEnd().split("\n").at(-1)).toBe("Restored src: 1 started, 3 moved back, 0 failed");
    expect(restored.stderr).toMatch(/^\[0\/4\] Restoring 4 instance\(s\) to "src"\n/);
    expect(restored.stderr).toMatch(/\[4\/4\] Restored "src"\n$/);
    for (const [name, project, status] of [["web1", "default", "Running"], ["web2", "default", "Stopped"], ["db1", "default", "Running"], ["api1", "p1", "Running"]]) {
      const now = await where(name, project);
      expect(now, name).toMatchObject({ location: "src", status });
      expect(now.config["volatile.evacuate.origin"], name).toBeUndefined();
    }
    expect(await statusOf("src")).toBe("Online");
  });

  it("asks on a terminal: yes evacuates with a progress bar, no changes nothing; restore --mode skip only flips the state", async () => {
    const yes = h.spawnInTerminal(["cluster", "evacuate", "ttyyes"]);
    const no = h.spawnInTerminal(["cluster", "evac", "ttyno"]);
    try {
      const prompt = (m: string) => `Are you sure you want to evacuate cluster member "${m}"? (yes/no) [default=no]:`;
      await Promise.all([yes.waitFor("stdout", (t) => t.includes(prompt("ttyyes"))), no.waitFor("stdout", (t) => t.includes(prompt("ttyno")))]);
      yes.child.stdin.write("yes\n");
      no.child.stdin.write("no\n");
      const [yesExit, noExit] = await Promise.all([yes.exited, no.exited]);

      expect(yesExit.code, yes.stdout).toBe(0);
      expect(yes.stdout).toMatch(/[█░]{30} 1\/1 Evacuated "ttyyes"/); // the bar, full, with the last step
      expect(yes.stdout).toMatch(/tty1\s*│\s*default\s*│\s*migrate\s*│\s*t[12]\s*│\s*moved/);
      expect(yes.stdout).toContain("Evacuated ttyyes: 1 moved, 0 stopped, 0 failed");
      expect(await statusOf("ttyyes")).toBe("Evacuated");

      expect(noExit.code, no.stdout).toBe(1);
      expect(no.stdout).toContain('Error: Aborted: did not evacuate cluster member "ttyno"');
      expect(await statusOf("ttyno")).toBe("Online");
      expect(await where("tty2")).toMatchObject({ location: "ttyno", status: "Running" });
    } finally {
      for (const cli of [yes, no]) {
        cli.child.stdin.end();
        if (cli.child.exitCode === null) await cli.stop();
      }
    }

    const skipped = await h.run(["cluster", "restore", "ttyyes", "--mode", "skip", "--force"]);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stdout).toBe("Restored ttyyes: 0 started, 0 moved back, 0 failed\n");
    expect(await statusOf("ttyyes")).toBe("Online");
    expect(["t1", "t2"]).toContain((await where("tty1")).location);
  });

  it("exits 1 with the failed instance in the summary, and a second evacuate retries what is left (--format json)", async () => {
    h.executor.failing((a) => a.kind === "move" && a.name === "fragile", () => "target t1 ran out of disk");
    let failed;
    try {
      failed = await h.run(["cluster", "evacuate", "frag", "--force"]);
    } finally {
      h.executor.failing(null);
    }
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/fragile\s*│\s*default\s*│\s*migrate\s*│\s*t[12]\s*│\s*failed\s*│\s*target t1 ran out of disk/);
    expect(failed.stdout).toContain("Evacuated frag: 1 moved, 0 stopped, 1 failed\n");
    expect(failed.stderr).toMatch(/\[\d\/2\] Failed on "fragile" in project "default": target t1 ran out of disk\n/);
    expect(failed.stderr.trimEnd().split("\n").at(-1)).toBe("Error: 1 of 2 instance(s) could not be evacuated: default/fragile: target t1 ran out of disk");
    expect(await where("fragile")).toMatchObject({ location: "frag" });

    const retried = JSON.parse(await h.ok(["cluster", "evacuate", "frag", "--force", "--format", "json"]));
    expect(retried).toMatchObject({ done: 1, total: 1, failed: 0, instances: [{ name: "fragile", action: "migrate", outcome: "moved" }] });
    expect(["t1", "t2"]).toContain((await where("fragile")).location);
  });

  it("exits 1 when it stopped an instance because no member could take it, and says so", async () => {
    await h.api("POST", "/1.0/cluster/members", { server_name: "bigsrc", resources: { cpu: { total: 8 }, memory: { total: 64 * 1024 ** 3 } } });
    await h.api("POST", "/1.0/cluster/members/bigsrc/heartbeat", {});
    await instance("big", "bigsrc", { start: true, config: { "limits.memory": "20GiB" } }); // t1 and t2 have 16GiB
    await instance("little", "bigsrc", { start: true });
    await h.api("PATCH", "/1.0/cluster/members/bigsrc", { config: { "scheduler.instance": "manual" } });
    const evac = await h.run(["cluster", "evacuate", "bigsrc", "--force"]);
    expect(evac.code, evac.stderr).toBe(1);
    expect(evac.stdout).toMatch(/big\s*│\s*default\s*│\s*stop\s*│\s*│\s*stopped \(no member could take it\)\s*│/);
    expect(evac.stdout).toContain("Evacuated bigsrc: 1 moved, 1 stopped (1 because no member could take it), 0 failed\n");
    expect(evac.stderr.trimEnd().split("\n").at(-1)).toBe("Error: 1 instance(s) stopped instead of moved, as no member could take them: default/big");
    expect(await where("big")).toMatchObject({ location: "bigsrc", status: "Stopped" });
    expect(await statusOf("bigsrc")).toBe("Evacuated");
  });

  it("berth operation cancel stops an evacuation: the steps in flight finish, the rest stays, the evacuate command exits 1", async () => {
    await member("csrc");
    for (let i = 1; i <= 5; i++) await instance(`c${i}`, "csrc", { start: true });
    await h.api("PATCH", "/1.0/cluster/members/csrc", { config: { "scheduler.instance": "manual" } });
    h.executor.hold((a) => a.kind === "stop" && a.location === "csrc");
    const evac = h.spawn(["cluster", "evacuate", "csrc", "--force"]);
    try {
      const held = await Promise.all([1, 2, 3, 4].map((i) => h.executor.next((a) => a.name === `c${i}`))); // max_parallel 4
      const running = (await h.api("GET", "/1.0/operations?recursion=1")).running as Operation[];
      const op = running.find((o) => o.description.includes('"csrc"'))!;
      expect(await h.ok(["operation", "cancel", op.id])).toContain(`Cancellation of operation ${op.id} requested`);
      for (const action of held) action.release();
      const exited = await evac.exited;
      expect(exited.code, evac.stderr).toBe(1);
      expect(evac.stdout).toMatch(/c5\s*│\s*default\s*│\s*migrate\s*│\s*t[12]\s*│\s*cancelled\s*│/);
      expect(evac.stdout).toContain("Evacuated csrc: 4 moved, 0 stopped, 0 failed, 1 cancelled\n");
      expect(evac.stderr.trimEnd().split("\n").at(-1)).toBe(`Error: Operation ${op.id} was cancelled: Cancelled by request`);
      expect(await where("c5")).toMatchObject({ location: "csrc", status: "Running" });
      expect(await statusOf("csrc")).toBe("Evacuated");
    } finally {
      h.executor.releaseAll();
      if (evac.child.exitCode === null) await evac.stop();
    }
    const again = JSON.parse(await h.ok(["cluster", "evacuate", "csrc", "--force", "--format", "json"]));
    expect(again).toMatchObject({ moved: 1, instances: [{ name: "c5", outcome: "moved" }] });
  });

  it("Ctrl-C on a terminal asks whether to cancel; yes cancels the evacuation and it exits 1", async () => {
    await member("intsrc");
    for (let i = 1; i <= 5; i++) await instance(`int${i}`, "intsrc", { start: true });
    await h.api("PATCH", "/1.0/cluster/members/intsrc", { config: { "scheduler.instance": "manual" } });
    h.executor.hold((a) => a.kind === "stop" && a.location === "intsrc");
    const evac = h.spawnInTerminal(["cluster", "evacuate", "intsrc", "--force"]);
    try {
      const held = await Promise.all([1, 2, 3, 4].map((i) => h.executor.next((a) => a.name === `int${i}`)));
      evac.child.stdin.write("\x03"); // Ctrl-C, as typed on the terminal
      await evac.waitFor("stdout", (t) => /Cancel the evacuation of cluster member "intsrc" \(operation [0-9a-f-]+\)\?.*\(yes\/no\) \[default=no\]:/s.test(t));
      evac.child.stdin.write("yes\n");
      await evac.waitFor("stdout", (t) => t.includes("Cancelling operation"));
      for (const action of held) action.release();
      const exited = await evac.exited;
      expect(exited.code, evac.stdout).toBe(1);
      expect(evac.stdout).toContain("Evacuated intsrc: 4 moved, 0 stopped, 0 failed, 1 cancelled");
      expect(evac.stdout).toMatch(/Error: Operation [0-9a-f-]+ was cancelled/);
      expect(await where("int5")).toMatchObject({ location: "intsrc", status: "Running" });
    } finally {
      h.executor.releaseAll();
      evac.child.stdin.end();
      if (evac.child.exitCode === null) await evac.stop();
    }
  });

  it("follows progress by polling when the event stream is unavailable", async () => {
    await h.api("POST", "/1.0/cluster/members", { server_name: "poll1" });
    // A client whose event stream always fails, as behind a proxy that does not pass SSE.
    class NoStream extends BerthClient {
      override async streamEvents(): Promise<void> { throw new CliError("no event stream here"); }
    }
    const client = new NoStream({ url: h.url, token: ADMIN_TOKEN, tokenSource: "test" });
    const seen: unknown[] = [];
    const op = await followOperation(
      client,
      () => client.startOperation("POST", "/1.0/cluster/members/poll1/state", { body: { action: "evacuate" } }),
      (m) => seen.push(m.evacuation_progress),
    );
    expect(op.status).toBe("Success");
    expect(seen.at(-1)).toBe('Evacuated "poll1"');
    expect(await statusOf("poll1")).toBe("Evacuated");
  });
});
