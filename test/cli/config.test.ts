import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, freePort, startCliHarness, type CliHarness } from "./cliHarness.ts";

let h: CliHarness;
beforeAll(async () => { h = await startCliHarness(); });
afterAll(async () => { await h.close(); });

const SCRIPTLET = `// spread by name
function instance_placement(request, candidate_members) {
  log_info("placing ", request.name);
  set_target(candidate_members[0].server_name);
}
`;

describe("berth config", () => {
  it("sets keys in KEY=VALUE and KEY VALUE forms, gets explicit and effective values, unsets", async () => {
    expect(await h.ok(["config", "set", "cluster.offline_threshold=45", "scheduler.strategy=spread"])).toContain("Configuration updated");
    await h.ok(["config", "set", "scheduler.cpu_allocation_ratio", "2.5"]);
    expect((await h.api("GET", "/1.0")).config).toEqual({
      "cluster.offline_threshold": "45", "scheduler.strategy": "spread", "scheduler.cpu_allocation_ratio": "2.5",
    }); // strings, as LXD shows config

    const [table, json, strategy, timeout, threshold] = await Promise.all([
      h.ok(["config", "get"]),
      h.ok(["config", "get", "--format", "json"]),
      h.ok(["config", "get", "scheduler.strategy"]),
      h.ok(["config", "get", "scriptlet.timeout_ms"]),
      h.ok(["config", "get", "cluster.offline_threshold", "--format", "json"]),
    ]);
    expect(table).toMatch(/cluster\.offline_threshold\s*│\s*45/);
    expect(table).toMatch(/scheduler\.strategy\s*│\s*spread/);
    expect(JSON.parse(json)).toEqual((await h.api("GET", "/1.0")).config);
    // With a key: the effective value, defaults included, bare so scripts can use it.
    expect(strategy).toBe("spread\n");
    expect(timeout).toBe("200\n");
    expect(threshold).toBe('"45"\n'); // JSON of the value, a string as the API has it

    expect(await h.ok(["config", "unset", "scheduler.strategy"])).toContain("scheduler.strategy");
    const after = await h.api("GET", "/1.0");
    expect(after.config).not.toHaveProperty("scheduler.strategy");
    expect(after.effective_config["scheduler.strategy"]).toBe("count");
  });

  it("reads a value from stdin with KEY=- (a scriptlet from a file)", async () => {
    expect(await h.ok(["config", "set", "instances.placement.scriptlet=-"], { input: SCRIPTLET })).toContain(
      "instances.placement.scriptlet",
    );
    expect((await h.api("GET", "/1.0")).config["instances.placement.scriptlet"]).toBe(SCRIPTLET);
    // A one-line value piped from echo loses its trailing newline.
    await h.ok(["config", "set", "cluster.evacuate.max_parallel", "-"], { input: "8\n" });
    expect((await h.api("GET", "/1.0")).config["cluster.evacuate.max_parallel"]).toBe("8");
  });

  it("reports the server's validation errors and changes nothing", async () => {
    const [unknown, tooLow, getUnknown] = await Promise.all([
      h.run(["config", "set", "cluster.colour=blue"]),
      h.run(["config", "set", "cluster.offline_threshold=3", "scheduler.strategy=pack"]),
      h.run(["config", "get", "nope"]),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^Error: Unknown configuration key "cluster.colour" \(known keys: .*cluster.offline_threshold/);
    expect(tooLow.code).toBe(1);
    expect(tooLow.stderr).toContain('Configuration key "cluster.offline_threshold" must be at least 10, got "3"');
    expect((await h.api("GET", "/1.0")).config["scheduler.strategy"]).toBeUndefined();
    expect(getUnknown.code).toBe(1);
    expect(getUnknown.stderr).toContain('Unknown configuration key "nope"');
  });
});

describe("connecting", () => {
  it("uses --url/--token over the environment, ./data/admin.token as a fallback, and explains failures", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const cwd = mkdtempSync(join(tmpdir(), "berth-cli-token-"));
    mkdirSync(join(cwd, "data"));
    writeFileSync(join(cwd, "data", "admin.token"), `${ADMIN_TOKEN}\n`);
    const [overridden, fromFile, noToken, refused, badFormat, unknownCommand] = await Promise.all([
      // Global options win over BERTH_URL / BERTH_TOKEN.
      h.run(["--url", h.url, "--token", ADMIN_TOKEN, "project", "list"], { env: { BERTH_URL: dead, BERTH_TOKEN: "wrong" } }),
      // BERTH_URL without BERTH_TOKEN: the token comes from ./data/admin.token.
      h.run(["project", "list"], { env: { BERTH_URL: h.url }, cwd }),
      h.run(["project", "list"], { env: { BERTH_URL: h.url } }),
      h.run(["cluster", "list"], { env: { BERTH_URL: dead, BERTH_TOKEN: ADMIN_TOKEN } }),
      h.run(["cluster", "list", "--format", "xml"]),
      h.run(["clustre", "list"]),
    ]).finally(() => rmSync(cwd, { recursive: true, force: true }));
    expect(overridden).toMatchObject({ code: 0, stdout: expect.stringContaining("default") });
    expect(fromFile).toMatchObject({ code: 0, stdout: expect.stringContaining("default") });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/^Error: .*\(no token: set BERTH_TOKEN or --token/);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `Error: Cannot connect to the Berth service at ${dead}: connection refused. Is "berth serve" running there? Set BERTH_URL or --url to use another address.\n`,
    );
    expect(badFormat.code).toBe(1);
    expect(badFormat.stderr).toContain("Allowed choices are table, json, yaml");
    expect(unknownCommand.code).toBe(1);
    expect(unknownCommand.stderr).toContain("unknown command 'clustre'");
  });

  it("tries each address BERTH_URL or --url lists (the replicas of one service) until one answers", async () => {
    const [dead1, dead2] = [`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`];
    const [listed, created, flag, none] = await Promise.all([
      h.run(["project", "list"], { env: { BERTH_URL: `${dead1}, ${h.url}`, BERTH_TOKEN: ADMIN_TOKEN } }),
      // A write whose connection was refused never arrived: it goes to the next address, once.
      h.run(["project", "create", "failover"], { env: { BERTH_URL: `${dead1},${dead2},${h.url}/`, BERTH_TOKEN: ADMIN_TOKEN } }),
      h.run(["--url", `${dead2},${h.url}`, "project", "show", "default"], { env: { BERTH_URL: dead1, BERTH_TOKEN: ADMIN_TOKEN } }),
      h.run(["cluster", "list"], { env: { BERTH_URL: `${dead1},${dead2}`, BERTH_TOKEN: ADMIN_TOKEN } }),
    ]);
    expect(listed).toMatchObject({ code: 0, stdout: expect.stringContaining("default") });
    expect(created.code, created.stderr).toBe(0);
    expect((await h.api("GET", "/1.0/projects")) as string[]).toContain("/1.0/projects/failover");
    expect(flag).toMatchObject({ code: 0, stdout: expect.stringContaining("default") });
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      `Error: Cannot connect to the Berth service at ${dead1}, ${dead2}: connection refused. Is "berth serve" running there? Set BERTH_URL or --url to use another address.\n`,
    );
  });
});
