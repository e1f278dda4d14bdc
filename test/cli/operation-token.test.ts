import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { startCliHarness, type CliHarness } from "./cliHarness.ts";

let h: CliHarness;
beforeAll(async () => {
  h = await startCliHarness();
  // A slow, cancellable operation kind, so wait/cancel can be watched from the CLI.
  const ops = h.server.berth.services.operations;
  ops.register("test-sleep", async (ctx, input) => {
    const { ms, fail } = input as { ms: number; fail?: string };
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      ctx.signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); });
    });
    if (fail) throw new Error(fail);
    return { slept: ms };
  });
});
afterAll(async () => { await h.close(); });

async function startSleep(ms: number, fail?: string): Promise<string> {
  return (await h.server.berth.services.operations.start({ kind: "test-sleep", description: "Sleeping for a test", input: { ms, fail }, mayCancel: true })).id;
}

describe("berth operation", () => {
  it("lists, shows, waits (with timeout), cancels, and exits non-zero for failed or cancelled operations", async () => {
    const done = await startSleep(10);
    const failing = await startSleep(10, "the disk caught fire");
    const slow = await startSleep(60_000);

    const [waited, failed, list, listed, shown, timedOut] = await Promise.all([
      h.ok(["operation", "wait", done]),
      h.run(["operation", "wait", failing]),
      h.ok(["operation", "list"]),
      h.ok(["operation", "list", "--format", "json"]),
      h.ok(["operation", "show", done, "--format", "yaml"]),
      h.run(["operation", "wait", slow, "--timeout", "1"]),
    ]);
    expect(waited).toBe(`Operation ${done}: Success\n`);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain("Failure (the disk caught fire)");
    expect(failed.stderr).toBe(`Error: Operation ${failing} ended Failure: the disk caught fire\n`);
    expect(list).toMatch(new RegExp(`${slow}\\s*│\\s*Sleeping for a test\\s*│\\s*Running\\s*│\\s*YES`));
    expect(JSON.parse(listed).map((o: { id: string }) => o.id).sort()).toEqual([done, failing, slow].sort());
    expect(YAML.parse(shown)).toMatchObject({ id: done, status: "Success", metadata: { slept: 10 } });
    expect(timedOut.code).toBe(1);
    expect(timedOut.stderr).toBe(`Error: Operation ${slow} is still Running after 1s\n`);

    expect(await h.ok(["operation", "cancel", slow])).toContain(`Cancellation of operation ${slow} requested`);
    const cancelled = await h.run(["operation", "wait", slow]);
    expect(cancelled.code).toBe(1);
    expect(cancelled.stdout).toContain(`Operation ${slow}: Cancelled`);
    expect((await h.api("GET", `/1.0/operations/${slow}`)).status).toBe("Cancelled");
  });
});

describe("berth token", () => {
  it("creates tokens whose secret works, lists them without secrets, revokes them", async () => {
    await h.api("POST", "/1.0/cluster/members", { server_name: "n1" });
    const out = await h.ok(["token", "create", "--role", "viewer", "--description", "dashboard"]);
    expect(out).toMatch(/^Token [0-9a-f]+ \(viewer\) created\.\nIts secret is shown only this once; store it now:\nberth_\S+\n$/);
    const secret = out.trim().split("\n").pop()!;
    const id = /^Token ([0-9a-f]+)/.exec(out)![1];

    // The new secret reads, but a viewer may not write.
    const asViewer = { env: { BERTH_URL: h.url, BERTH_TOKEN: secret } };
    const [read, denied, agentJson, noRole] = await Promise.all([
      h.run(["project", "list"], asViewer),
      h.run(["project", "create", "x"], asViewer),
      h.ok(["token", "create", "--role", "agent", "--member", "n1", "--format", "json"]),
      h.run(["token", "create"]),
    ]);
    expect(read).toMatchObject({ code: 0, stdout: expect.stringContaining("default") });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^Error: .*viewer/);
    expect(noRole.code).toBe(1);
    expect(noRole.stderr).toContain("required option '--role <role>' not specified");

    const agent = JSON.parse(agentJson);
    expect(agent).toMatchObject({ role: "agent", member: "n1" });
    expect(agent.token).toMatch(/^berth_/);

    const [table, listed] = await Promise.all([h.ok(["token", "list"]), h.ok(["token", "list", "--format", "json"])]);
    expect(table).toMatch(new RegExp(`${id}\\s*│\\s*viewer\\s*│\\s*│\\s*dashboard`));
    expect(table).toMatch(new RegExp(`${agent.id}\\s*│\\s*agent\\s*│\\s*n1`));
    expect(table).not.toContain(secret);
    expect(JSON.parse(listed)).toEqual(await h.api("GET", "/1.0/tokens?recursion=1"));

    expect(await h.ok(["token", "revoke", id])).toContain(`Token ${id} revoked`);
    const revoked = await h.run(["project", "list"], { env: { BERTH_URL: h.url, BERTH_TOKEN: secret } });
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toMatch(/^Error: \S/);
  });
});
