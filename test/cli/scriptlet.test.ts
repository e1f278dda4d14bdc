import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCliHarness, type CliHarness } from "./cliHarness.ts";

let h: CliHarness;
const SPREAD = fileURLToPath(new URL("../../scriptlets/spread-failure-domains.js", import.meta.url));

beforeAll(async () => {
  h = await startCliHarness();
  // A generous scriptlet limit: no test here is about it, and a loaded machine must not fail them on time.
  await h.api("PATCH", "/1.0", { config: { "cluster.offline_threshold": 3600, "scriptlet.timeout_ms": 10_000 } });
  for (const [name, domain] of [["r1a", "rack1"], ["r1b", "rack1"], ["r2a", "rack2"]]) {
    await h.api("POST", "/1.0/cluster/members", { server_name: name, failure_domain: domain, resources: { cpu: { total: 8 }, memory: { total: 16 * 1024 ** 3 } } });
    await h.api("POST", `/1.0/cluster/members/${name}/heartbeat`, {});
  }
});
afterAll(async () => { await h.close(); });

describe("berth scriptlet", () => {
  it("tests a file without installing it, installs it, shows it, refuses a broken one, and unsets it", async () => {
    await h.api("POST", "/1.0/instances?target=r1a", { name: "existing" });
    const tested = await h.ok(["scriptlet", "test", SPREAD, "--name", "web1", "--cpu", "1"]);
    // rack1 already holds an instance of the project, so the spread policy picks rack2.
    expect(tested.split("\n")[0]).toBe("Target: r2a");
    expect(tested).toMatch(/Scriptlet: chose r2a in [\d.]+ ms/);
    expect(tested).toContain("info: spread: web1 -> r2a (domain rack2 has 0)");
    expect(await h.ok(["scriptlet", "show"])).toContain("No placement scriptlet is installed");

    const broken = join(h.workDir, "broken.js");
    writeFileSync(broken, "function instance_placement(request, candidates) {\n  return (;\n}\n");
    const [installed, bad] = await Promise.all([
      h.ok(["scriptlet", "set", SPREAD]),
      h.run(["scriptlet", "test", broken]),
    ]);
    expect(installed).toContain("Placement scriptlet installed");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Error: .*2:\d+/);

    const [shown, refused] = await Promise.all([h.ok(["scriptlet", "show"]), h.run(["scriptlet", "set", broken])]);
    expect(shown).toContain("function instance_placement(request, candidate_members)");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/2:\d+/);
    expect((await h.api("GET", "/1.0")).config["instances.placement.scriptlet"]).toContain("Spread across failure domains");

    const created = await h.ok(["instance", "create", "web1"]);
    expect(created).toContain("created on r2a");
    const query = await h.ok(["placement", "query", "--name", "web2"]);
    expect(query).toMatch(/Scriptlet: chose r1\w in/);

    expect(await h.ok(["scriptlet", "unset"])).toContain("built-in placement");
    expect(await h.ok(["scriptlet", "show"])).toContain("No placement scriptlet is installed");
    const missing = await h.run(["scriptlet", "set", join(h.workDir, "nope.js")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("ENOENT");
  });

  // Issue 13, point 4: one that would break every placement is refused, unless forced.
  it("refuses a scriptlet that fails its trial placement, says what the trial did, and installs it with --force", async () => {
        const throws = join(h.workDir, "throws.js");
    writeFileSync(throws, "function instance_placement(request, candidates) {\n  return candidates[9].server_name;\n}\n");
    const refused = await h.run(["scriptlet", "set", throws]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Error: The scriptlet failed a trial placement .*TypeError.*\(line 2:\d+\).*install it anyway with --force/);
    expect(await h.ok(["scriptlet", "show"])).toContain("No placement scriptlet is installed");

    const forced = await h.ok(["scriptlet", "set", throws, "--force"]);
    expect(forced).toContain("Placement scriptlet installed from");
    expect(forced).toContain("Trial placement not run (force)");
    expect(await h.ok(["scriptlet", "show"])).toContain("candidates[9]");

    const fine = await h.ok(["scriptlet", "set", SPREAD]);
    expect(fine).toMatch(/Trial placement passed: the scriptlet (chose "r\d\w"|kept the built-in choice) in [\d.]+ ms/);
    await h.ok(["scriptlet", "unset"]);
    await h.api("PATCH", "/1.0", { config: { "scriptlet.timeout_ms": 10_000 } });
  });

  it("reads the source from stdin and prints JSON on request; a refusal exits 1", async () => {
    const source = 'function instance_placement(r, c) { log_error("no"); return "closed for maintenance"; }';
    const refused = await h.run(["scriptlet", "test", "-", "--reason", "evacuation", "--format", "json"], { input: source });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe("Error: The scriptlet from stdin refused the placement: closed for maintenance\n");
    const answer = JSON.parse(refused.stdout);
    expect(answer.target).toBeNull();
    expect(answer.scriptlet).toMatchObject({ called: true, rejected: "closed for maintenance", logs: [{ level: "error", message: "no" }] });
  });

  it("exits 1 when the tested scriptlet throws or times out, after printing what it did", async () => {
    const throwing = join(h.workDir, "throwing.js");
    writeFileSync(throwing, 'function instance_placement(request, candidates) {\n  log_info("looking");\n  throw new Error("inventory service down");\n}\n');
    const looping = join(h.workDir, "looping.js");
    writeFileSync(looping, "function instance_placement(request, candidates) {\n  while (true) {}\n}\n");
    const [threw, looped, fine] = await Promise.all([
      h.run(["scriptlet", "test", throwing, "--name", "web9"]),
      h.run(["scriptlet", "test", looping, "--name", "web9"]),
      h.run(["scriptlet", "test", SPREAD, "--name", "web9"]),
    ]);
    expect(threw.code).toBe(1);
    expect(threw.stdout).toContain("info: looking");
    expect(threw.stderr).toMatch(/^Error: Scriptlet .*throwing\.js failed: .*inventory service down/);
    expect(looped.code).toBe(1);
    expect(looped.stderr).toMatch(/^Error: Scriptlet .*looping\.js failed: .*(time|limit)/i);
    expect(fine.code, fine.stderr).toBe(0);
  });
});
