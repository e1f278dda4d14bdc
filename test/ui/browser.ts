/**
 * Browser tests of the dashboard: Debian's Chromium driven by playwright-core (no browser is ever
 * downloaded) against a real `berth serve` listening in this process, its executor a TestExecutor
 * the test can gate. Without Chromium the suite skips loudly, except under CI=true, where it fails.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from "playwright-core";
import { pino } from "pino";
import { describe, it } from "vitest";
import { startServer } from "../../src/cli/serve.ts";
import { memberBody } from "../support/memberBody.ts";
import { TestExecutor } from "../support/testExecutor.ts";

export const CHROMIUM = process.env.BERTH_CHROMIUM ?? "/usr/bin/chromium";
export const ADMIN_TOKEN = "ui-test-admin-token";
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const UI_DIST = join(ROOT, "ui", "dist");

/** `describe` when Chromium is there; otherwise a loud skip, or under CI=true a failing test. */
export function describeInBrowser(name: string, body: () => void): void {
  if (existsSync(CHROMIUM)) {
    describe(name, body);
    return;
  }
  const why = `Chromium is not installed at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`;
  if (process.env.CI === "true") {
    describe(name, () => {
      it("needs Chromium for the browser tests", () => {
        throw new Error(`${why}: under CI=true the browser tests must run`);
      });
    });
    return;
  }
  console.warn(`\n${"!".repeat(100)}\n!!! SKIPPING the dashboard's browser tests "${name}": ${why}\n${"!".repeat(100)}\n`);
  describe.skip(name, body);
}

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** The tests run the built dashboard: refuse a missing or stale build instead of testing old code. */
function checkBuilt(): void {
  const index = join(UI_DIST, "index.html");
  if (!existsSync(index)) throw new Error("ui/dist is not built: run npm run build:ui (npm test builds it first)");
  const sources = Math.max(newest(join(ROOT, "ui", "src")), statSync(join(ROOT, "ui", "index.html")).mtimeMs, newest(join(ROOT, "scriptlets")));
  if (sources > statSync(index).mtimeMs) throw new Error("ui/dist is older than ui/src: run npm run build:ui (npm test builds it first)");
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

export interface UiServer {
  url: string;
  executor: TestExecutor;
  /** The API as the admin: the envelope's metadata, or a thrown error. */
  api<T = any>(method: string, path: string, body?: unknown, token?: string): Promise<T>;
  /** Registers an Online member with declared resources (8 cpus, 16GiB, a 100GiB default pool unless given). */
  addMember(name: string, extra?: Record<string, unknown>): Promise<void>;
  /** Creates a viewer token and returns its secret. */
  viewerToken(): Promise<string>;
  close(): Promise<void>;
}

export async function startUiServer(): Promise<UiServer> {
  checkBuilt();
  const dataDir = mkdtempSync(join(tmpdir(), "berth-ui-"));
  const executor = new TestExecutor();
  const server = await startServer({
    listen: "127.0.0.1:0", dataDir, localMember: false, adminToken: ADMIN_TOKEN, logger: pino({ level: "silent" }),
    executor: executor.install, sandboxPoolSize: 1,
  });
  const api = async (method: string, path: string, body?: unknown, token = ADMIN_TOKEN) => {
    const response = await fetch(server.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const envelope = (await response.json()) as { type: string; error?: string; metadata: unknown };
    if (envelope.type === "error") throw new Error(`${method} ${path}: ${envelope.error}`);
    return envelope.metadata as any;
  };
  // Members in these tests heartbeat once, by hand: keep them Online for the test's length. The
  // scriptlet limit is wall-clock time, which a loaded machine can spend on installing one (these
  // tests are not about the limit): a generous one.
  await api("PATCH", "/1.0", { config: { "cluster.offline_threshold": 3600, "scriptlet.timeout_ms": 5000 } });
  return {
    url: server.url,
    executor,
    api,
    async addMember(name, extra = {}) {
      await api("POST", "/1.0/cluster/members", memberBody(name, extra));
      await api("POST", `/1.0/cluster/members/${name}/heartbeat`, {});
    },
    async viewerToken() {
      return (await api("POST", "/1.0/tokens", { role: "viewer", description: "dashboard test" })).token;
    },
    async close() {
      executor.releaseAll();
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Dashboard {
  page: Page;
  context: BrowserContext;
  /** Page errors, console errors and CSP violations seen so far (a test ends by expecting none). */
  problems: string[];
  close(): Promise<void>;
}

/** A fresh browser context (its own sessionStorage) at 1280×800 on /ui/, signed in with the token when given. */
export async function openDashboard(browser: Browser, server: UiServer, token?: string, path = "/ui/"): Promise<Dashboard> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const problems: string[] = [];
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("console", (msg) => {
    // An API call the service refuses (a wrong token, a broken scriptlet) is logged by the browser;
    // the page shows it, and the tests assert on that.
    const refusedCall = /^Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text()) && /\/1\.0(\/|$|\?)/.test(msg.location().url);
    if (msg.type() === "error" && !refusedCall) problems.push(`console error: ${msg.text()}`);
  });
  await page.goto(server.url + path);
  if (token) await signIn(page, token);
  return { page, context, problems, close: () => context.close() };
}

export async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel("Token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Main" }).waitFor();
}

/** Waits until an element of the locator has the text (the page updates on its own: events, reloads); returns that element's whole text. */
export async function textOf(locator: Locator, expected: string | RegExp): Promise<string> {
  const match = locator.filter({ hasText: expected }).first();
  await match.waitFor();
  return (await match.textContent()) ?? "";
}
