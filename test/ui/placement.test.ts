/**
 * The placement explorer and the scriptlet editor in Chromium: a query with rejected members, a
 * scriptlet with a syntax error marked on its line, and a working example tested and installed.
 */
import { readFileSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ADMIN_TOKEN, describeInBrowser, launchBrowser, openDashboard, startUiServer, textOf, type Dashboard, type UiServer } from "./browser.ts";

const SPREAD = readFileSync(new URL("../../scriptlets/spread-failure-domains.js", import.meta.url), "utf8");

const BROKEN = [
  "function instance_placement(request, candidate_members) {",
  '  log_info("placing ", request.name);',
  "  let = = 3;",
  "}",
].join("\n");

describeInBrowser("dashboard: placement explorer and scriptlet editor", () => {
  let server: UiServer;
  let browser: Browser;
  let dashboard: Dashboard;
  let page: Page;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startUiServer(), launchBrowser()]);
    await server.addMember("node1", { failure_domain: "rack1" });
    await server.addMember("node2", { failure_domain: "rack2" });
    await server.addMember("big", { failure_domain: "rack2", resources: { cpu: { total: 32 }, memory: { total: 64 * 1024 ** 3 } } });
    await server.addMember("maint", { failure_domain: "rack1" });
    await server.api("POST", "/1.0/cluster/members/maint/state", { action: "evacuate" });
    await server.api("POST", "/1.0/instances?target=node2", { name: "web1", config: { "limits.memory": "1GiB" } });
    dashboard = await openDashboard(browser, server, ADMIN_TOKEN, "/ui/placement");
    page = dashboard.page;
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const explore = async (memory: string) => {
    await page.getByLabel("Memory").fill(memory);
    await page.getByRole("button", { name: "Explore placement" }).click();
  };
  const cells = (table: ReturnType<Page["getByRole"]>, column: number) => table.locator(`tbody tr td:nth-child(${column})`).allTextContents();

  it("explores a placement: ranked candidates, and every rejected member with its reason", async () => {
    await textOf(page.locator(`tr[data-member]`).or(page.getByRole("heading", { name: "Placement explorer" })), "Placement explorer");
    await explore("20GiB");
    const decision = page.getByRole("status", { name: "Placement decision" });
    expect(await textOf(decision.locator(".decision-target"), "Target: big")).toBe("Target: big");
    const candidates = page.getByRole("table", { name: "Ranked candidates" });
    expect(await cells(candidates, 2)).toEqual(["bigchosen"]);
    const rejected = page.getByRole("table", { name: "Rejected members" });
    expect(await cells(rejected, 1)).toEqual(["maint", "node1", "node2"]);
    const reasons = await cells(rejected, 2);
    expect(reasons[0]).toMatch(/Evacuated/);
    expect(reasons[1]).toMatch(/memory/i);
    expect(reasons[2]).toMatch(/memory/i);
    // The page shows the API's answer.
    const answer = await server.api("POST", "/1.0/scheduler/placement", { name: "placement-query", config: { "limits.cpu": "1", "limits.memory": "20GiB" } });
    expect(reasons).toEqual([answer.rejected.maint, answer.rejected.node1, answer.rejected.node2]);
    expect(await page.getByRole("region", { name: "Scriptlet", exact: true }).textContent()).toContain("Not called");

    // Nobody fits: no target, every member rejected.
    await explore("1TiB");
    await textOf(page.getByRole("status", { name: "Placement decision" }).locator(".decision-target"), "No member can take it");
    expect(await cells(page.getByRole("table", { name: "Rejected members" }), 1)).toEqual(["big", "maint", "node1", "node2"]);
  });

  const editorText = () => page.locator(".cm-content").evaluate((el) => [...el.querySelectorAll(".cm-line")].map((l) => l.textContent).join("\n"));
  const typeSource = async (source: string) => {
    await page.locator(".cm-content").click();
    await page.keyboard.press("Control+A");
    await page.keyboard.press("Delete");
    await page.keyboard.insertText(source);
  };

  it("marks the line of a syntax error in the editor, and installs nothing", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Scriptlet" }).click();
    await page.locator(".cm-content").waitFor();
    expect(await textOf(page.locator(".summary"), "No scriptlet installed")).toContain("placement is built-in");
    await typeSource(BROKEN);
    expect(await editorText()).toBe(BROKEN);

    await page.getByRole("button", { name: "Test against the cluster" }).click();
    const alert = page.getByRole("alert");
    expect(await textOf(alert, "Line 3")).toMatch(/^Line 3: Invalid scriptlet: SyntaxError.*\(line 3:\d+\)$/);
    const marked = page.locator(".cm-line.cm-berth-error-line");
    await marked.waitFor();
    expect(await marked.count()).toBe(1);
    expect(await marked.getAttribute("data-error-line")).toBe("3");
    expect(await marked.textContent()).toBe("  let = = 3;");
    expect(await page.locator(".cm-lint-marker-error").count()).toBe(1);

    // Install refuses it the same way; the old (no) scriptlet stays.
    const refused = page.waitForResponse((r) => r.request().method() === "PATCH" && new URL(r.url()).pathname === "/1.0");
    await page.getByRole("button", { name: "Install", exact: true }).click();
    expect((await refused).status()).toBe(400);
    expect(await textOf(alert, "Line 3")).toMatch(/^Line 3: Invalid scriptlet: SyntaxError/);
    expect(await page.locator(".cm-line.cm-berth-error-line").getAttribute("data-error-line")).toBe("3");
    expect((await server.api("GET", "/1.0")).config["instances.placement.scriptlet"]).toBeUndefined();
  });

  it("loads an example, tests it against the cluster, installs it, and the explorer shows its decision and logs", async () => {
    await page.getByLabel("Start from an example").selectOption("spread-failure-domains.js");
    await textOf(page.locator(".cm-content"), "Spread across failure domains.");
    expect(await editorText()).toBe(SPREAD);
    expect(await page.locator(".cm-berth-error-line").count()).toBe(0);

    await page.getByRole("region", { name: "Test", exact: true }).getByLabel("Name").fill("web2");
    await page.getByRole("button", { name: "Test against the cluster" }).click();
    const report = page.getByRole("region", { name: "Scriptlet", exact: true });
    // web1 is in rack2: the scriptlet picks the emptier rack1, where only node1 is a candidate.
    expect(await textOf(report, "Chose node1")).toContain("Chose node1");
    expect(await report.getByRole("list", { name: "Scriptlet logs" }).textContent()).toContain("spread: web2 -> node1 (domain rack1 has 0)");
    await textOf(page.getByRole("status", { name: "Placement decision" }), "The placement scriptlet chose node1");
    expect((await server.api("GET", "/1.0")).config["instances.placement.scriptlet"]).toBeUndefined();

    await page.getByRole("button", { name: "Install", exact: true }).click();
    await textOf(page.getByRole("status").filter({ hasText: "Installed" }), "new placements go through this scriptlet");
    expect((await server.api("GET", "/1.0")).config["instances.placement.scriptlet"]).toBe(SPREAD);
    await textOf(page.locator(".summary"), `A scriptlet of ${SPREAD.split("\n").length} lines is installed.`);

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Placement" }).click();
    await explore("1GiB");
    const explorer = page.getByRole("region", { name: "Scriptlet", exact: true });
    await textOf(explorer, "Chose node1");
    expect(await explorer.getByRole("list", { name: "Scriptlet logs" }).textContent()).toContain("spread: placement-query -> node1");
    expect(dashboard.problems).toEqual([]);
  });
});
