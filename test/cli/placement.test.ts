import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCliHarness, type CliHarness } from "./cliHarness.ts";

let h: CliHarness;
const GiB = 1024 ** 3;

beforeAll(async () => {
  h = await startCliHarness();
  // Set up through the API; members stay Online for the whole file.
  // A generous scriptlet limit: no test here is about it, and a loaded machine must not fail them on time.
  await h.api("PATCH", "/1.0", { config: { "cluster.offline_threshold": 3600, "scriptlet.timeout_ms": 10_000 } });
  await h.api("POST", "/1.0/storage-pools", { name: "default", driver: "dir" });
  await h.api("POST", "/1.0/projects", { name: "p1" });
  const resources = (cpu: number, memory: number) => ({ cpu: { total: cpu }, memory: { total: memory }, storage: { pools: { default: { total: 100 * GiB } } } });
  await h.api("POST", "/1.0/cluster/members", { server_name: "big", resources: resources(8, 16 * GiB) });
  await h.api("POST", "/1.0/cluster/members", { server_name: "small", resources: resources(1, 1 * GiB) });
  await h.api("POST", "/1.0/cluster/members", { server_name: "pend" }); // never heartbeats: Pending
  await h.api("POST", "/1.0/cluster/members/big/heartbeat", {});
  await h.api("POST", "/1.0/cluster/members/small/heartbeat", {});
});
afterAll(async () => { await h.close(); });

describe("berth placement query", () => {
  it("prints the target, ranked candidates and rejected members with reasons, as a table or JSON", async () => {
    const request = ["--cpu", "2", "--memory", "4GiB", "--disk", "10GiB", "--pool", "default"];
    const [table, json, none, badReason] = await Promise.all([
      h.ok(["placement", "query", ...request, "--name", "q1"]),
      h.ok(["placement", "query", "--cpu", "1", "--format", "json"]),
      h.run(["placement", "query", "--gpus", "1", "--target", "@default", "--reason", "relocation"]),
      h.run(["placement", "query", "--reason", "whim"]),
    ]);

    const lines = table.split("\n");
    expect(lines[0]).toBe("Target: big");
    expect(table).toMatch(/RANK\s*│\s*MEMBER\s*│\s*INSTANCES\s*│\s*PENDING\s*│\s*FREE CPU\s*│\s*FREE MEMORY\s*│\s*ALLOCATED/);
    // 8 cpu × the default allocation ratio 4; allocated is the mean cpu and memory fraction with the request placed.
    expect(table).toMatch(/│ 1\s*│ big\s*│ 0\s*│ 0\s*│ 32\s*│ 16GiB\s*│ 15.6%\s*│/);
    expect(table).toMatch(/small\s*│\s*resources: needs 4GiB memory, 1GiB of 1GiB/);
    expect(table).toMatch(/pend\s*│\s*status: .*Pending/);
    expect(table).not.toContain("Scriptlet"); // no scriptlet installed

    // JSON is the API's answer as it is.
    const answer = JSON.parse(json);
    expect(answer).toEqual(await h.api("POST", "/1.0/scheduler/placement", { config: { "limits.cpu": "1" }, devices: {} }));
    expect(answer.target).toBe("big");
    expect(answer.candidates.map((c: { server_name: string }) => c.server_name)).toEqual(["big", "small"]);
    expect(Object.keys(answer.rejected)).toEqual(["pend"]);

    // No target: the answer is printed, and the command fails as the create would (issue 13, point 8).
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("Error: no target: a create would be refused (409)");
    expect(none.stdout).toMatch(/^No member can take it: No cluster member can take instance "placement-query" in project "default"/);
    expect(none.stdout).not.toContain("RANK");
    expect(none.stdout).toMatch(/big\s*│\s*resources: needs 1 gpu/);
    expect(none.stdout).toMatch(/small\s*│\s*resources: needs 1 gpu/);

    expect(badReason.code).toBe(1);
    expect(badReason.stderr).toContain("Allowed choices are new, evacuation, relocation");
  });
});

describe("berth instance move", () => {
  it("moves to a named member or lets the scheduler choose, waits, and reports when nothing fits", async () => {
    await h.api("POST", "/1.0/instances?target=big", { name: "mv1", start: true });
    await h.api("POST", "/1.0/instances?target=big&project=p1", { name: "mv2" });
    await h.api("POST", "/1.0/instances?target=big", { name: "fat", config: { "limits.memory": "8GiB" } });

    const [toSmall, inP1, nowhere] = await Promise.all([
      h.ok(["instance", "move", "mv1", "--target", "small"]),
      h.ok(["instance", "move", "mv2", "--project", "p1", "--target", "@default", "--live", "--format", "json"]),
      h.run(["instance", "move", "fat"]),
    ]);
    expect(toSmall).toBe("Instance mv1 moved from big to small\n");
    expect(await h.api("GET", "/1.0/instances/mv1")).toMatchObject({ location: "small", status: "Running" });
    expect(JSON.parse(inP1)).toMatchObject({ status: "Success", metadata: { from: "big", to: "small", status: "Stopped" } });
    expect((await h.api("GET", "/1.0/instances/mv2?project=p1")).location).toBe("small");

    expect(nowhere.code).toBe(1);
    expect(nowhere.stdout).toBe("");
    expect(nowhere.stderr).toMatch(/^Error: No cluster member can take instance "fat" in project "default"/);
    expect(nowhere.stderr).toContain("small: resources: needs 8GiB memory");
    expect((await h.api("GET", "/1.0/instances/fat")).location).toBe("big");

    // Without --target the scheduler picks, never the member it is on.
    expect(await h.ok(["instance", "move", "mv1"])).toBe("Instance mv1 moved from small to big\n");
    expect(await h.api("GET", "/1.0/instances/mv1")).toMatchObject({ location: "big", status: "Running" });
  });
});

describe("berth placement query with a scriptlet", () => {
  it("prints what the scriptlet chose or why it refused, with its logs", async () => {
    const source = `function instance_placement(request, candidates) {
  log_info("placing ", request.name, " reason=", request.reason);
  if (request.name === "refused") return "not on a Sunday";
  set_target("small");
}`;
    await h.api("PATCH", "/1.0", { config: { "instances.placement.scriptlet": source } });
    try {
      const [chosen, refused] = await Promise.all([
        h.ok(["placement", "query", "--name", "web9", "--reason", "evacuation"]),
        h.run(["placement", "query", "--name", "refused"]),
      ]);
      const lines = chosen.trimEnd().split("\n");
      expect(lines[0]).toBe("Target: small");
      expect(lines.at(-2)).toMatch(/^Scriptlet: chose small in \d+(\.\d)? ms$/);
      expect(lines.at(-1)).toBe("  info: placing web9 reason=evacuation");
      // The candidates are still listed, ranked by the built-in rules.
      expect(chosen).toMatch(/│ [12]\s*│ big\s*│/);
      expect(chosen).toMatch(/│ [12]\s*│ small\s*│/);

      // Refused: the answer is printed, and the command fails as a create would (400).
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("a create would be refused (400)");
      expect(refused.stdout).toMatch(/^No member can take it: Placement rejected by the scriptlet: not on a Sunday\n/);
      expect(refused.stdout).toMatch(/\nScriptlet: rejected the placement in \d+(\.\d)? ms: not on a Sunday\n {2}info: placing refused reason=new\n$/);
    } finally {
      await h.api("PATCH", "/1.0", { config: { "instances.placement.scriptlet": "" } });
    }
  });
});
