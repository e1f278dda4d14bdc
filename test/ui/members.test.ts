/**
 * The dashboard in Chromium: sign-in, the members table with its bars, an evacuation from the
 * dry-run plan to the end with its progress seen step by step (the executor holds every step
 * until the page has shown it), and the restore.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ADMIN_TOKEN, describeInBrowser, launchBrowser, openDashboard, startUiServer, textOf, type Dashboard, type UiServer } from "./browser.ts";

describeInBrowser("dashboard: members, evacuation and restore", () => {
  let server: UiServer;
  let browser: Browser;
  let dashboard: Dashboard;
  let page: Page;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startUiServer(), launchBrowser()]);
    await server.addMember("node1", { failure_domain: "rack1" });
    await server.addMember("node2", { failure_domain: "rack2" });
    await server.addMember("node3", { failure_domain: "rack2" });
    // A member run by a berth agent (manual: never a placement target here).
    await server.addMember("edge1", { failure_domain: "edge", config: { "scheduler.instance": "manual" } });
    const agentToken = (await server.api("POST", "/1.0/tokens", { role: "agent", member: "edge1" })).token;
    await server.api("POST", "/1.0/cluster/members/edge1/heartbeat", { agent: { driver: "process", version: "0.1.0" }, instances: [] }, agentToken);
    await server.api("POST", "/1.0/instances?target=node1", { name: "web1", config: { "limits.cpu": "2", "limits.memory": "4GiB" }, start: true });
    await server.api("POST", "/1.0/instances?target=node1", { name: "web2", config: { "limits.cpu": "1", "limits.memory": "1GiB" }, start: true });
    await server.api("POST", "/1.0/instances?target=node2", { name: "db1", config: { "limits.cpu": "4", "limits.memory": "8GiB" }, start: true });
    // One instance at a time, so the steps come in a known order.
    await server.api("PATCH", "/1.0", { config: { "cluster.evacuate.max_parallel": 1 } });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const row = (member: string) => page.locator(`tr[data-member="${member}"]`);
  const meter = (name: string) => page.getByRole("meter", { name, exact: true });

  it("refuses a wrong token, and signs in with the admin token kept only in the tab's session", async () => {
    dashboard = await openDashboard(browser, server);
    page = dashboard.page;
    const eventRequests: Record<string, string>[] = [];
    page.on("request", (request) => {
      if (request.url().includes("/1.0/events")) eventRequests.push(request.headers());
    });

    await page.getByLabel("Token").fill("not-a-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    expect(await textOf(page.getByRole("alert"), "Invalid or revoked token")).toContain("Invalid or revoked token");

    await page.getByLabel("Token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("navigation", { name: "Main" }).waitFor();
    expect(await page.locator(".role").textContent()).toBe("admin");
    await textOf(page.getByRole("status").filter({ hasText: "Live" }), "Live");

    // The token is in sessionStorage, never in the URL or a cookie; the event stream sends it as a header.
    expect(page.url()).not.toContain(ADMIN_TOKEN);
    expect(await dashboard.context.cookies()).toEqual([]);
    expect(await page.evaluate("sessionStorage.getItem(\"berth.token\")")).toBe(ADMIN_TOKEN);
    expect(eventRequests.at(-1)?.authorization).toBe(`Bearer ${ADMIN_TOKEN}`);
  });

  it("shows every member with status, failure domain, instance count and allocation bars", async () => {
    await row("node3").waitFor();
    expect(await row("node1").locator("[data-status]").first().textContent()).toBe("OnlineFully operational");
    expect(await row("node1").locator("td").nth(2).textContent()).toBe("rack1");
    expect(await row("node2").locator("td").nth(2).textContent()).toBe("rack2");
    expect(await row("node1").locator("td").nth(3).textContent()).toBe("default");
    expect(await row("node1").locator("td.num").textContent()).toBe("2");
    // Agent · heartbeat: the agent's driver, or none for a member kept alive through the API.
    expect(await row("edge1").locator("td").nth(4).locator("span").first().textContent()).toBe("agent · process");
    expect(await row("edge1").locator("td").nth(4).locator("span").first().getAttribute("title")).toMatch(/^berth agent 0\.1\.0, driver process, last seen \d+s ago$/);
    expect(await row("node1").locator("td").nth(4).locator("span").first().textContent()).toBe("none");
    expect(await row("node1").locator("td").nth(4).locator(".small").textContent()).toMatch(/^\d+s ago$/);
    // node1 hosts web1 (2 cores, 4GiB) and web2 (1 core, 1GiB); 8 cpus × cpu ratio 4 = 32 cores; memory ratio 1.
    expect(await meter("CPU allocated on node1").getAttribute("aria-valuetext")).toBe("3 / 32 cores");
    expect(await meter("Memory allocated on node1").getAttribute("aria-valuetext")).toBe("5GiB / 16GiB");
    expect(await meter("CPU allocated on node2").getAttribute("aria-valuetext")).toBe("4 / 32 cores");
    expect(await meter("Memory allocated on node2").getAttribute("aria-valuetext")).toBe("8GiB / 16GiB");
    expect(await meter("CPU allocated on node3").getAttribute("aria-valuetext")).toBe("0 / 32 cores");
    expect(await meter("Load on node3").getAttribute("aria-valuetext")).toBe("load 0.00 / 8 cpus");
    // The bar is drawn to scale: 8GiB of 16GiB is half the track.
    expect(await meter("Memory allocated on node2").locator(".bar-fill").evaluate((el) => (el as unknown as { style: { width: string } }).style.width)).toBe("50%");

    // A change made elsewhere shows up by itself (lifecycle event → reload).
    await server.api("POST", "/1.0/instances?target=node3", { name: "tmp1", config: { "limits.cpu": "1" } });
    await textOf(row("node3").locator("td.num"), "1");
    await server.api("DELETE", "/1.0/instances/tmp1");
    await textOf(row("node3").locator("td.num"), "0");
  });

  it("evacuates node1: the dry-run plan for the chosen mode, then the progress step by step to the end", async () => {
    await page.getByRole("button", { name: "Evacuate node1" }).click();
    const dialog = page.getByRole("dialog", { name: "Evacuate node1" });
    const plan = dialog.getByRole("table", { name: "Evacuation plan" });

    // Mode "stop": the plan stops both in place.
    await dialog.getByLabel("Mode").selectOption("stop");
    await textOf(plan.locator("tbody tr").first(), "stays");
    expect(await plan.locator("tbody tr td:nth-child(4)").allTextContents()).toEqual(["stop", "stop"]);

    // Back to each instance's own mode (auto: migrate): the plan is the API's dry run.
    await dialog.getByLabel("Mode").selectOption("");
    await textOf(plan.locator("tbody tr td:nth-child(4)").first(), "migrate");
    const expected = (await server.api("POST", "/1.0/cluster/members/node1/state", { action: "evacuate", dry_run: true })).instances as { name: string; target: string }[];
    const rows = await plan.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)));
    expect(rows.map((r) => [r[0], r[3], r[4]])).toEqual(expected.map((e) => [e.name, "migrate", e.target]));
    for (const e of expected) expect(["node2", "node3"]).toContain(e.target);
    // Nothing changed yet.
    expect(await row("node1").locator("[data-status]").first().textContent()).toContain("Online");

    server.executor.hold();
    await dialog.getByRole("button", { name: "Evacuate node1 (2 instances)" }).click();
    await dialog.waitFor({ state: "detached" });
    const card = page.getByRole("region", { name: 'Operation: Evacuating cluster member "node1"' });
    const step = card.getByTestId("op-step");
    const count = card.getByTestId("op-count");
    await textOf(row("node1").locator("[data-status]").first(), "Evacuating");

    let done = 0;
    for (const { name, target } of expected) {
      const steps = [
        ["stop", `Stopping "${name}" in project "default"`],
        ["move", `Migrating "${name}" in project "default" to "${target}"`],
        ["start", `Starting "${name}" in project "default"`],
      ] as const;
      for (const [kind, text] of steps) {
        const held = await server.executor.next();
        expect([held.kind, held.name]).toEqual([kind, name]);
        // The executor waits until the page shows this very step.
        expect(await textOf(step, text)).toBe(text);
        expect(await count.textContent()).toBe(`${done} / 2 instances`);
        held.release();
      }
      done++;
      await textOf(count, `${done} / 2 instances`);
    }
    expect(await textOf(step, 'Evacuated "node1"')).toBe('Evacuated "node1"');
    await textOf(card.locator(".op-head [data-status]"), "Success");
    expect(await card.getByRole("progressbar").getAttribute("aria-valuenow")).toBe("2");
    // The outcome table, and the members table after it.
    const outcomes = card.getByRole("table", { name: /Instances of Evacuating/ });
    expect(await outcomes.locator("tbody tr").count()).toBe(2);
    await textOf(row("node1").locator("[data-status]").first(), "Evacuated");
    await textOf(row("node1").locator("td.num"), "0");
    expect(await meter("CPU allocated on node1").getAttribute("aria-valuetext")).toBe("0 / 32 cores");
    expect(await row("node1").getByRole("button", { name: "Evacuate node1" }).isDisabled()).toBe(true);
    expect(await row("node1").locator(".btn-wrap").first().getAttribute("title")).toBe("node1 is already evacuated");
    server.executor.releaseAll();
  });

  it("restores node1 from its member page, with the progress from the events", async () => {
    await row("node1").getByRole("link", { name: "node1" }).click();
    await page.getByRole("heading", { name: "node1", level: 1 }).waitFor();
    await page.getByRole("button", { name: "Restore node1" }).click();
    const dialog = page.getByRole("dialog", { name: "Restore node1" });
    const plan = dialog.getByRole("table", { name: "Restore plan" });
    await plan.waitFor();
    expect((await plan.locator("tbody tr td:first-child").allTextContents()).sort()).toEqual(["web1", "web2"]);
    expect(await plan.locator("tbody tr td:nth-child(3)").first().textContent()).toMatch(/^move back from node[23]$/);

    server.executor.hold();
    await dialog.getByRole("button", { name: "Restore node1 (2 instances)" }).click();
    const card = page.getByRole("region", { name: 'Operation: Restoring cluster member "node1"' });
    const first = await server.executor.next();
    expect(first.kind).toBe("stop");
    await textOf(card.getByTestId("op-step"), `Stopping "${first.name}" in project "default"`);
    expect(await card.getByTestId("op-count").textContent()).toBe("0 / 2 instances");
    server.executor.releaseAll();

    await textOf(card.getByTestId("op-count"), "2 / 2 instances");
    await textOf(card.getByTestId("op-step"), 'Restored "node1"');
    await textOf(page.locator(".page-head [data-status]"), "Online");
    const instances = page.getByRole("table", { name: "Instances on node1" });
    await textOf(instances, "web1");
    expect((await instances.locator("tbody tr td:first-child").allTextContents()).sort()).toEqual(["web1", "web2"]);
    expect((await server.api("GET", "/1.0/instances/web1")).location).toBe("node1");
    expect(dashboard.problems).toEqual([]);
  });
});
