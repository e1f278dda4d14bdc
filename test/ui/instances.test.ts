/** The instances page in Chromium: filters, create with the placement decision shown, stop, move to a chosen member, delete. */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ADMIN_TOKEN, describeInBrowser, launchBrowser, openDashboard, startUiServer, textOf, type Dashboard, type UiServer } from "./browser.ts";

describeInBrowser("dashboard: instances", () => {
  let server: UiServer;
  let browser: Browser;
  let dashboard: Dashboard;
  let page: Page;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startUiServer(), launchBrowser()]);
    await server.addMember("node1");
    await server.addMember("node2");
    await server.addMember("small", { resources: { cpu: { total: 2 }, memory: { total: 2 * 1024 ** 3 } } });
    await server.api("POST", "/1.0/instances?target=node1", { name: "web1", config: { "limits.cpu": "1", "limits.memory": "1GiB" }, start: true });
    await server.api("POST", "/1.0/instances?target=node2", { name: "db1", config: { "limits.cpu": "2", "limits.memory": "2GiB" } });
    dashboard = await openDashboard(browser, server, ADMIN_TOKEN, "/ui/instances");
    page = dashboard.page;
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const table = () => page.getByRole("table", { name: "Instances", exact: true });
  const row = (name: string) => table().locator(`tr[data-instance="${name}"]`);
  const names = async () => (await table().locator("tbody tr[data-instance]").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-instance")))).sort();

  it("filters by name, member and status", async () => {
    await row("db1").waitFor();
    expect(await names()).toEqual(["db1", "web1"]);
    await page.getByLabel("Member").selectOption("node2");
    expect(await names()).toEqual(["db1"]);
    await page.getByLabel("Member").selectOption("");
    await page.getByLabel("Status").selectOption("Running");
    expect(await names()).toEqual(["web1"]);
    await page.getByLabel("Status").selectOption("");
    await page.getByLabel("Name").fill("DB");
    expect(await names()).toEqual(["db1"]);
    await page.getByLabel("Name").fill("");
    expect(await names()).toEqual(["db1", "web1"]);
  });

  it("creates an instance and shows where it went and why", async () => {
    await page.getByRole("button", { name: "Create instance…" }).click();
    const dialog = page.getByRole("dialog", { name: "Create an instance" });
    await dialog.getByLabel("Name").fill("app1");
    await dialog.getByLabel("CPU (cores)").fill("1");
    await dialog.getByLabel("Memory").fill("4GiB");
    await dialog.getByRole("button", { name: "Create" }).click();

    const result = page.getByRole("dialog", { name: "Created app1" });
    const decision = result.getByRole("status", { name: "Placement decision" });
    await decision.waitFor();
    // "small" (2GiB) cannot take 4GiB; node1 and node2 hold one instance each, and the tie goes to
    // the one whose instances request less memory: node1 (web1, 1GiB) before node2 (db1, 2GiB).
    const where = (await server.api("GET", "/1.0/instances/app1")).location;
    expect(where).toBe("node1");
    expect(await decision.locator(".decision-target").textContent()).toBe(`app1 was placed on ${where}`);
    expect(await decision.locator(".decision-why").textContent()).toBe(
      `${where} ranked first of 2 candidates by scheduler.strategy=count: fewest instances first (1 instance, 1GiB memory requested).`);
    const rejected = result.getByRole("table", { name: "Rejected members" });
    expect(await rejected.locator("tbody td").first().textContent()).toBe("small");
    expect(await rejected.locator("tbody td").nth(1).textContent()).toMatch(/memory/i);
    expect(await result.getByRole("table", { name: "Ranked candidates" }).locator("tr.chosen td:nth-child(2)").textContent()).toBe(`${where}chosen`);
    await result.getByRole("button", { name: "Done" }).click();
    await textOf(row("app1").locator("td:nth-child(4)"), where);
    await textOf(row("app1").locator("[data-status]"), "Running");
  });

  it("stops an instance and moves it to the member chosen", async () => {
    await row("web1").getByRole("button", { name: "Stop web1" }).click();
    await textOf(row("web1").locator("[data-status]"), "Stopped");
    expect((await server.api("GET", "/1.0/instances/web1")).status).toBe("Stopped");

    await row("web1").getByRole("button", { name: "Move web1" }).click();
    const dialog = page.getByRole("dialog", { name: "Move web1" });
    // The current member is not offered.
    expect(await dialog.getByLabel("Target").locator("option").allTextContents()).not.toContain("node1 (Online)");
    await dialog.getByLabel("Target").selectOption("small");
    await dialog.getByRole("button", { name: "Move" }).click();
    await textOf(row("web1").locator("td:nth-child(4)"), "small");
    expect((await server.api("GET", "/1.0/instances/web1")).location).toBe("small");
  });

  it("deletes an instance after a confirmation naming it", async () => {
    await row("db1").getByRole("button", { name: "Delete db1" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete db1?" });
    expect(await dialog.textContent()).toContain("This cannot be undone");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    expect(await names()).toContain("db1");

    await row("db1").getByRole("button", { name: "Delete db1" }).click();
    await page.getByRole("dialog", { name: "Delete db1?" }).getByRole("button", { name: "Delete db1" }).click();
    await row("db1").waitFor({ state: "detached" });
    expect(await names()).toEqual(["app1", "web1"]);
    expect((await server.api("GET", "/1.0/instances")).sort()).toEqual(["/1.0/instances/app1", "/1.0/instances/web1"]);
    expect(dashboard.problems).toEqual([]);
  });
});
