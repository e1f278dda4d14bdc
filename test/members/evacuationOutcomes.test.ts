/**
 * What an evacuation does when it cannot move an instance (issue 13, point 3): a broken scriptlet
 * (throws, times out, refuses) never stops an instance — it is left running where it is, reported
 * failed with the scriptlet's message, and the operation fails; "no member can take it" stops it in
 * place, and the result says so apart from the stops the instance's own rules asked for.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Instance } from "../../src/domain/types.ts";
import { makeHarness, type Harness } from "../support/harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await makeHarness({ sandboxPoolSize: 1 });
  for (const name of ["src", "a", "b"]) await h.addMember(name);
});
afterEach(async () => { await h.close(); });

const create = (name: string, body: Record<string, unknown> = {}) => h.createInstance({ name, start: true, ...body }, "target=src");
const get = async (name: string): Promise<Instance> => (await h.request("GET", `/1.0/instances/${name}`)).body.metadata;
const evacuate = async () => {
  const reply = await h.request("POST", "/1.0/cluster/members/src/state", { action: "evacuate" });
  expect(reply.status).toBe(202);
  return (await h.request("GET", `${reply.body.operation}/wait?timeout=30`)).body.metadata;
};
const install = async (source: string, extra: Record<string, unknown> = {}) => {
  const r = await h.request("PATCH", "/1.0", { config: { "instances.placement.scriptlet": source, ...extra } });
  expect(r.status, r.body.error).toBe(200);
};
/** A scriptlet that breaks (as `body` does) only when evacuating instances named "t-..."; placement of anything else works. */
const breaking = (body: string) => `
function instance_placement(request, candidate_members) {
  if (request.reason === "evacuation" && request.name.startsWith("t-")) { ${body} }
}`;

describe("a broken scriptlet during an evacuation", () => {
  const cases: [string, string, Record<string, unknown>, RegExp][] = [
    ["throws", `throw new Error("rack database unreachable");`, {}, /rack database unreachable/],
    ["times out", `while (true) {}`, { "scriptlet.timeout_ms": 300 }, /time|limit/i],
    ["refuses", `return "no evacuation targets today";`, {}, /no evacuation targets today/],
  ];
  for (const [what, body, extra, message] of cases) {
    it(`${what}: the instance is left running where it is, reported failed with the scriptlet's message; a re-run retries it`, async () => {
      await create("t-web");
      await create("other");
      await install(breaking(body), extra);
      const op = await evacuate();

      expect(op.status).toBe("Failure");
      expect(op.err).toMatch(message);
      const web = op.metadata.instances.find((i: any) => i.name === "t-web");
      expect(web).toMatchObject({ outcome: "failed" });
      expect(web.error).toMatch(message);
      expect(op.metadata.instances.find((i: any) => i.name === "other")).toMatchObject({ outcome: "moved" });
      expect(await get("t-web")).toMatchObject({ location: "src", status: "Running" });
      expect((await get("t-web")).config["volatile.last_state.power"]).toBeUndefined();
      expect(h.executor.log.filter((a) => a.name === "t-web")).toEqual([
        expect.objectContaining({ kind: "start" }), // its create; nothing since
      ]);
      expect((await h.request("GET", "/1.0/cluster/members/src")).body.metadata.status).toBe("Evacuated");

      await install("");
      const again = await evacuate();
      expect(again.status, again.err).toBe("Success");
      expect(again.metadata.instances).toEqual([expect.objectContaining({ name: "t-web", outcome: "moved" })]);
      expect((await get("t-web")).location).not.toBe("src");
    });
  }
});

describe("no member can take an instance", () => {
  it("stops it in place; the result counts it apart from the stops its own rules asked for", async () => {
    await create("huge", { config: { "limits.memory": "15GiB" } });
    await create("ruled", { config: { "cluster.evacuate": "stop" } });
    await create("small");
    for (const m of ["a", "b"]) await h.createInstance({ name: `fill-${m}`, config: { "limits.memory": "10GiB" } }, `target=${m}`);
    const op = await evacuate();

    expect(op.status).toBe("Success"); // as in LXD: stopping in place is what evacuation does then
    expect(op.metadata).toMatchObject({ moved: 1, stopped: 2, stopped_instead_of_moved: 1, failed: 0 });
    const byName = Object.fromEntries(op.metadata.instances.map((i: any) => [i.name, i]));
    expect(byName.huge).toMatchObject({ action: "stop", outcome: "stopped", no_target: true });
    expect(byName.ruled).toMatchObject({ action: "stop", outcome: "stopped" });
    expect(byName.ruled.no_target).toBeUndefined();
    expect(op.metadata.evacuation_progress).toBe('Evacuated "src": 1 instance(s) stopped instead of moved, as no member could take them (default/huge)');
    expect(await get("huge")).toMatchObject({ location: "src", status: "Stopped" });
  });
});
