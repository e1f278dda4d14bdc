/**
 * `npm run screenshots`: the README's pictures of the dashboard, taken in Chromium from a real
 * service with a made-up cluster. The members page is caught in the middle of an evacuation (the
 * test executor holds the next step); the placement explorer shows a query with a rejected member
 * and the installed scriptlet's decision and logs. Writes docs/screenshots/*.png.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ADMIN_TOKEN, launchBrowser, openDashboard, startUiServer, textOf } from "../test/ui/browser.ts";

const OUT = fileURLToPath(new URL("../docs/screenshots/", import.meta.url));
const GiB = 1024 ** 3;

const server = await startUiServer();
const browser = await launchBrowser();
try {
  const members: [string, string, number, number, number][] = [
    // name, failure domain, cpus, memory GiB, load
    ["node1", "rack1", 16, 64, 3.1],
    ["node2", "rack1", 16, 64, 5.4],
    ["node3", "rack2", 16, 64, 2.2],
    ["node4", "rack2", 8, 32, 1.3],
    ["gpu1", "rack3", 32, 128, 9.8],
  ];
  await server.api("POST", "/1.0/cluster/groups", { name: "gpu", description: "Members with GPUs" });
  for (const [name, domain, cpu, memory, load] of members) {
    await server.addMember(name, {
      failure_domain: domain,
      groups: name.startsWith("gpu") ? ["default", "gpu"] : ["default"],
      resources: { cpu: { total: cpu }, memory: { total: memory * GiB, used: Math.round(memory * GiB * 0.3) }, load: { average_1m: load, average_5m: load, average_15m: load, processes: 300 } },
    });
  }
  const instances: [string, string, string, string][] = [
    ["web-1", "node1", "2", "4GiB"], ["web-2", "node1", "2", "4GiB"], ["db-1", "node1", "8", "24GiB"], ["cache-1", "node1", "4", "8GiB"],
    ["web-3", "node2", "2", "4GiB"], ["db-2", "node2", "8", "24GiB"], ["queue-1", "node2", "2", "8GiB"],
    ["web-4", "node3", "2", "4GiB"], ["search-1", "node3", "6", "16GiB"],
    ["batch-1", "node4", "4", "8GiB"],
    ["train-1", "gpu1", "24", "96GiB"],
  ];
  for (const [name, target, cpu, memory] of instances) {
    await server.api("POST", `/1.0/instances?target=${target}`, { name, config: { "limits.cpu": cpu, "limits.memory": memory }, start: true });
  }
  await server.api("PATCH", "/1.0", { config: { "cluster.evacuate.max_parallel": 1 } });

  // The members page during an evacuation of node1: one instance done, the second one migrating.
  const dashboard = await openDashboard(browser, server, ADMIN_TOKEN);
  const page = dashboard.page;
  await page.locator('tr[data-member="gpu1"]').waitFor();
  server.executor.hold();
  await page.getByRole("button", { name: "Evacuate node1" }).click();
  const dialog = page.getByRole("dialog", { name: "Evacuate node1" });
  await dialog.getByRole("table", { name: "Evacuation plan" }).waitFor();
  await dialog.getByRole("button", { name: /^Evacuate node1 \(/ }).click();
  const card = page.getByRole("region", { name: 'Operation: Evacuating cluster member "node1"' });
  for (let step = 0; step < 4; step++) (await server.executor.next()).release(); // stop, move, start; then the next one's stop
  const held = await server.executor.next(); // the second instance's move
  await textOf(card.getByTestId("op-step"), "Migrating");
  await textOf(card.getByTestId("op-count"), "1 / 4 instances");
  const node1 = page.locator('tr[data-member="node1"]');
  await textOf(node1.locator("[data-status]").first(), "Evacuating");
  await textOf(node1.locator("td.num"), "3");
  await page.mouse.move(0, 0);
  mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: `${OUT}members-evacuation.png` });
  held.release();
  server.executor.releaseAll();
  await textOf(card.getByTestId("op-count"), "4 / 4 instances");

  // The placement explorer with a scriptlet installed and a member rejected.
  await server.api("PATCH", "/1.0", {
    config: { "instances.placement.scriptlet": readFileSync(new URL("../scriptlets/spread-failure-domains.js", import.meta.url), "utf8") },
  });
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Placement" }).click();
  await page.getByLabel("Name").fill("web-5");
  await page.getByLabel("CPU (cores)").fill("2");
  await page.getByLabel("Memory").fill("24GiB");
  await page.getByRole("button", { name: "Explore placement" }).click();
  await page.getByRole("list", { name: "Scriptlet logs" }).waitFor();
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${OUT}placement-explorer.png`, fullPage: true });
  if (dashboard.problems.length > 0) throw new Error(`the page reported problems: ${dashboard.problems.join("; ")}`);
  console.log(`wrote ${OUT}members-evacuation.png and ${OUT}placement-explorer.png`);
} finally {
  await browser.close();
  await server.close();
}
