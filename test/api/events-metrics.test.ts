import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ADMIN, makeHarness, type Harness } from "../support/harness.ts";

let h: Harness;
beforeEach(async () => { h = await makeHarness(); });
afterEach(async () => { await h.close(); });

/** Opens /1.0/events and collects parsed events until `until` says stop. */
async function collectEvents(query: string, act: () => Promise<void>, until: (events: any[]) => boolean) {
  const controller = new AbortController();
  const res = await h.berth.app.request(`/1.0/events${query}`, { headers: { authorization: `Bearer ${ADMIN}` }, signal: controller.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/event-stream");
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: any[] = [];
  let buffer = "";
  let acted = false;
  const deadline = Date.now() + 5000;
  while (!until(events) && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value);
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const type = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (type === "ready" && !acted) {
        acted = true;
        await act();
      } else if (data && type !== "ready") events.push(JSON.parse(data));
    }
  }
  controller.abort();
  await reader.cancel().catch(() => {});
  return events;
}

describe("/1.0/events", () => {
  it("streams lifecycle events for creates, updates and deletes", async () => {
    const events = await collectEvents("?type=lifecycle", async () => {
      await h.addMember("n1");
      await h.request("PATCH", "/1.0/cluster/members/n1", { description: "x" });
      await h.request("POST", "/1.0/instances?target=n1", { name: "web" });
      await h.request("DELETE", "/1.0/instances/web");
    }, (ev) => ev.some((e) => e.metadata.action === "instance-deleted"));
    const actions = events.map((e) => e.metadata.action);
    expect(actions).toEqual(expect.arrayContaining([
      "cluster-member-added", "cluster-member-status-changed", "cluster-member-updated", "instance-created", "instance-deleted",
    ]));
    expect(events.every((e) => e.type === "lifecycle")).toBe(true);
    const created = events.find((e) => e.metadata.action === "instance-created");
    expect(created).toMatchObject({ project: "default", metadata: { source: "/1.0/instances/web", context: { location: "n1" } } });
  });

  it("filters by type: operation events only", async () => {
    await h.addMember("n1");
    await h.request("POST", "/1.0/instances?target=n1", { name: "web" });
    const events = await collectEvents("?type=operation", async () => {
      await h.request("PUT", "/1.0/instances/web/state", { action: "start" });
    }, (ev) => ev.some((e) => e.metadata.status === "Success"));
    expect(events.every((e) => e.type === "operation")).toBe(true);
    // The operation's own story: created Running, then Success, for the instance it started.
    const statuses = events.map((e) => e.metadata.status);
    expect(statuses[0]).toBe("Running");
    expect(statuses.at(-1)).toBe("Success");
    expect(events.at(-1)!.metadata).toMatchObject({ description: "Starting instance", resources: { instances: ["/1.0/instances/web"] } });
  });

  it("rejects unknown event types", async () => {
    const r = await h.request("GET", "/1.0/events?type=gossip");
    expect(r.status).toBe(400);
    expect(r.body.error).toContain("gossip");
  });
});

describe("/1.0/metrics", () => {
  it("exposes members by status, instances by status and member, operations and HTTP requests", async () => {
    await h.addMember("n1");
    await h.request("POST", "/1.0/cluster/members", { server_name: "n2" });
    expect((await h.run("POST", "/1.0/instances?target=n1", { name: "a", start: true })).op?.status).toBe("Success");
    expect((await h.run("POST", "/1.0/instances?target=n1", { name: "b" })).op?.status).toBe("Success");
    await h.request("GET", "/1.0/instances/nope");
    const stop = await h.request("PUT", "/1.0/instances/a/state", { action: "stop" });
    await h.request("GET", `${stop.body.operation}/wait?timeout=10`);
    const res = await h.berth.app.request("/1.0/metrics", { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(text).toContain('berth_members{status="Online"} 1');
    expect(text).toContain('berth_members{status="Pending"} 1');
    expect(text).toContain('berth_instances{status="Stopped",member="n1"} 2');
    expect(text).toMatch(/berth_http_requests_total\{method="GET",route="\/1.0\/instances\/:name",status="404"\} 1/);
    expect(text).toMatch(/berth_http_request_duration_seconds_count\{method="GET",route="\/1.0\/instances\/:name"\} 1/);
    expect(text).toMatch(/berth_operations\{status="Success"\} 3/); // the creates of "a" and "b", the stop of "a"
  });
});
