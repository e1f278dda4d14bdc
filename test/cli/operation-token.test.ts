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

function startSleep(ms: number, fail?: string): string {
  return h.server.berth.services.operations.start({ kind: "test-sleep", description: "Sleeping for a test", input: { ms, fail }, mayCancel: true }).id;
}

describe("berth operation", () => {
  it("lists, shows, waits (with timeout), cancels, and exits non-zero for failed or cancelled operations", async () => {
    const done = startSleep(10);
    const failing = startSleep(10, "the disk caught fire");
    const slow = startSleep(60_000);

    expect(await h.ok(["operation", "wait", done])).toBe(`Operation ${done}: Success\n`);
    const failed = await h.run(["operation", "wait", failing]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain("Failure (the disk caught fire)");
    expect(failed.stderr).toBe(`Error: Operation ${failing} ended Failure: the disk caught fire\n`);

    const list = await h.ok(["operation", "list"]);
    expect(list).toMatch(new RegExp(`${done}\\s*│\\s*Sleeping for a test\\s*│\\s*Success`));
    expect(list).toMatch(new RegExp(`${slow}\\s*│\\s*Sleeping for a test\\s*│\\s*Running\\s*│\\s*YES`));
    const listed = JSON.parse(await h.ok(["operation", "list", "--format", "json"]));
    expect(listed.map((o: { id: string }) => o.id).sort()).toEqual([done, failing, slow].sort());
    expect(YAML.parse(await h.ok(["operation", "show", done, "--format", "yaml"]))).toMatchObject({
      id: done, status: "Success", metadata: { slept: 10 },
    });

    const timedOut = await h.run(["operation", "wait", slow, "--timeout", "1"]);
    expect(timedOut.code).toBe(1);
    expect(timedOut.stderr).toBe(`Error: Operation ${slow} is still Running after 1s\n`);

    expect(await h.ok(["operation", "cancel", slow])).toContain(`Cancellation of operation ${slow} requested`);
    const cancelled = await h.run(["operation", "wait", slow]);
    expect(cancelled.code).toBe(1);
    expect(cancelled.stdout).toContain(`Operation ${slow}: Cancelled`);
    expect((await h.api("GET", `/1.0/operations/${slow}`)).status).toBe("Cancelled");

    const again = await h.run(["operation", "cancel", done]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already finished");
    const missing = await h.run(["operation", "show", "nope"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Operation "nope" not found');
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
    expect(await h.ok(["project", "list"], { env: { BERTH_URL: h.url, BERTH_TOKEN: secret } })).toContain("default");
    const denied = await h.run(["project", "create", "x"], { env: { BERTH_URL: h.url, BERTH_TOKEN: secret } });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^Error: .*viewer/);

    const agent = JSON.parse(await h.ok(["token", "create", "--role", "agent", "--member", "n1", "--format", "json"]));
    expect(agent).toMatchObject({ role: "agent", member: "n1" });
    expect(agent.token).toMatch(/^berth_/);

    const table = await h.ok(["token", "list"]);
    expect(table).toMatch(new RegExp(`${id}\\s*│\\s*viewer\\s*│\\s*│\\s*dashboard`));
    expect(table).toMatch(new RegExp(`${agent.id}\\s*│\\s*agent\\s*│\\s*n1`));
    expect(table).not.toContain(secret);
    const listed = JSON.parse(await h.ok(["token", "list", "--format", "json"]));
    expect(listed).toEqual(await h.api("GET", "/1.0/tokens"));

    expect(await h.ok(["token", "revoke", id])).toContain(`Token ${id} revoked`);
    const revoked = await h.run(["project", "list"], { env: { BERTH_URL: h.url, BERTH_TOKEN: secret } });
    expect(revoked.code).toBe(1);

    const noMember = await h.run(["token", "create", "--role", "agent"]);
    expect(noMember.code).toBe(1);
    expect(noMember.stderr).toContain("member is required for an agent token");
    const noRole = await h.run(["token", "create"]);
    expect(noRole.code).toBe(1);
    expect(noRole.stderr).toContain("required option '--role <role>' not specified");
    const unknownId = await h.run(["token", "revoke", "abc"]);
    expect(unknownId.code).toBe(1);
    expect(unknownId.stderr).toContain('Token "abc" not found');
  });
});
