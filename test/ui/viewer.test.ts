/** A viewer in Chromium: sees every page, live events included, and can change nothing (disabled controls that say why). */
import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeInBrowser, launchBrowser, openDashboard, startUiServer, textOf, type Dashboard, type UiServer } from "./browser.ts";

describeInBrowser("dashboard: a viewer", () => {
  let server: UiServer;
  let browser: Browser;
  let dashboard: Dashboard;
  let page: Page;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startUiServer(), launchBrowser()]);
    await server.addMember("node1");
    await server.addMember("node2");
    await server.api("POST", "/1.0/instances?target=node1", { name: "web1", config: { "limits.cpu": "2" }, start: true });
    await server.api("PATCH", "/1.0", { config: { "instances.placement.scriptlet": "function instance_placement(request, candidate_members) {}\n" } });
    dashboard = await openDashboard(browser, server, await server.viewerToken());
    page = dashboard.page;
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const nav = (name: string) => page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true }).click();

  /** Disabled, with a tooltip naming the viewer token and what the action needs. */
  async function expectReadOnly(button: Locator, does: string): Promise<void> {
    expect(await button.isDisabled()).toBe(true);
    const why = `Read-only: you signed in with a viewer token. ${does} needs an admin token.`;
    expect(await button.getAttribute("title")).toBe(why);
    expect(await button.locator("xpath=..").getAttribute("title")).toBe(why);
    // Even a forced click changes nothing: no dialog opens.
    await button.click({ force: true });
    expect(await page.getByRole("dialog").count()).toBe(0);
  }

  it("sees the members and their bars, and cannot evacuate or restore", async () => {
    expect(await page.locator(".role").textContent()).toBe("viewer · read-only");
    const node1 = page.locator('tr[data-member="node1"]');
    await node1.waitFor();
    expect(await page.getByRole("meter", { name: "CPU allocated on node1" }).getAttribute("aria-valuetext")).toBe("2 / 32 cores");
    await expectReadOnly(node1.getByRole("button", { name: "Evacuate node1" }), "Evacuating a member");
    await expectReadOnly(node1.getByRole("button", { name: "Restore node1" }), "Restoring a member");

    await node1.getByRole("link", { name: "node1" }).click();
    await page.getByRole("table", { name: "Instances on node1" }).locator('tr[data-instance="web1"]').waitFor();
    await expectReadOnly(page.locator(".page-head").getByRole("button", { name: "Evacuate node1" }), "Evacuating a member");
  });

  it("sees the instances, and cannot create, stop, move or delete one", async () => {
    await nav("Instances");
    const web1 = page.getByRole("table", { name: "Instances", exact: true }).locator('tr[data-instance="web1"]');
    await textOf(web1.locator("[data-status]"), "Running");
    await expectReadOnly(page.getByRole("button", { name: "Create instance…" }), "Creating an instance");
    await expectReadOnly(web1.getByRole("button", { name: "Stop web1" }), "Stopping an instance");
    await expectReadOnly(web1.getByRole("button", { name: "Move web1" }), "Moving an instance");
    await expectReadOnly(web1.getByRole("button", { name: "Delete web1" }), "Deleting an instance");
  });

  it("sees the installed scriptlet read-only, and can neither test nor install nor query placements", async () => {
    await nav("Scriptlet");
    await page.locator(".cm-content").waitFor();
    expect(await page.locator(".cm-content").getAttribute("contenteditable")).toBe("false");
    expect(await page.locator(".cm-content").textContent()).toBe("function instance_placement(request, candidate_members) {}");
    await expectReadOnly(page.getByRole("button", { name: "Test against the cluster" }), "Testing a scriptlet (a POST request)");
    await expectReadOnly(page.getByRole("button", { name: "Install", exact: true }), "Installing a scriptlet");
    await expectReadOnly(page.getByRole("button", { name: "Remove scriptlet" }), "Removing the scriptlet");

    await nav("Placement");
    await expectReadOnly(page.getByRole("button", { name: "Explore placement" }), "A placement query (a POST request)");
  });

  it("follows operations and live events as the admin works, and nothing it did changed the cluster", async () => {
    await nav("Events");
    const feed = page.getByRole("list", { name: "Event feed" });
    await server.api("PUT", "/1.0/instances/web1/state", { action: "stop" });
    await textOf(feed, "instance-stopped /1.0/instances/web1");
    await textOf(feed.locator(".feed-operation"), "Stopping instance — Success");

    await nav("Operations");
    const recent = page.getByRole("table", { name: "Recent operations" });
    expect(await textOf(recent.locator("tbody tr"), "Stopping instance")).toContain("Success");

    const instance = await server.api("GET", "/1.0/instances/web1");
    expect([instance.location, instance.status]).toEqual(["node1", "Stopped"]);
    expect((await server.api("GET", "/1.0/cluster/members/node1")).status).toBe("Online");
    expect((await server.api("GET", "/1.0/instances")).length).toBe(1);
    expect(dashboard.problems).toEqual([]);
  });
});
