/** /ui/: the dashboard's static files (no token, strict CSP, pages fall back to index.html) and auth_role. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeHarness, type Harness } from "../support/harness.ts";

let h: Harness;
let uiDir: string;

beforeAll(async () => {
  uiDir = mkdtempSync(join(tmpdir(), "berth-ui-dist-"));
  mkdirSync(join(uiDir, "assets"));
  writeFileSync(join(uiDir, "index.html"), '<!doctype html><meta name="berth-csp-nonce" content="BERTH_CSP_NONCE"><title>Berth</title><script type=module src=/ui/assets/app-1.js></script>');
  writeFileSync(join(uiDir, "assets", "app-1.js"), "console.log('berth')");
  writeFileSync(join(uiDir, "assets", "app-1.css"), "body{}");
  writeFileSync(join(uiDir, "favicon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
  writeFileSync(join(tmpdir(), "berth-ui-secret.txt"), "outside");
  h = await makeHarness({ uiDir });
});
afterAll(async () => {
  await h.close();
  rmSync(uiDir, { recursive: true, force: true });
});

const get = (path: string) => h.berth.app.request(path);

describe("/ui/", () => {
  it("serves index.html without a token, with a CSP that allows only Berth itself", async () => {
    const r = await get("/ui/");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await r.text()).toContain("<title>Berth</title>");
    const csp = r.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
    expect(r.headers.get("x-content-type-options")).toBe("nosniff");
    expect(r.headers.get("cache-control")).toBe("no-cache");
  });

  it("gives every page its own style nonce, in the page and in the CSP", async () => {
    const nonceOf = async (r: Response) => {
      const nonce = /content="([^"]+)"/.exec(await r.text())?.[1];
      expect(nonce).toMatch(/^[A-Za-z0-9+/=]{24}$/);
      expect(r.headers.get("content-security-policy")).toContain(`style-src 'self' 'nonce-${nonce}'`);
      return nonce;
    };
    const first = await nonceOf(await get("/ui/"));
    const second = await nonceOf(await get("/ui/members"));
    expect(first).not.toBe(second);
    // Assets get the policy without any nonce.
    expect((await get("/ui/assets/app-1.js")).headers.get("content-security-policy")).toContain("style-src 'self';");
  });

  it("redirects /ui to /ui/", async () => {
    const r = await get("/ui");
    expect(r.status).toBe(301);
    expect(r.headers.get("location")).toBe("/ui/");
  });

  it("serves assets with their content types, hashed assets cached for good", async () => {
    const js = await get("/ui/assets/app-1.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(js.headers.get("cache-control")).toContain("immutable");
    expect(await js.text()).toBe("console.log('berth')");
    expect((await get("/ui/assets/app-1.css")).headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect((await get("/ui/favicon.svg")).headers.get("content-type")).toBe("image/svg+xml");
  });

  it("answers index.html for the dashboard's pages, member names with dots included", async () => {
    for (const page of ["/ui/members", "/ui/members/node1.lan", "/ui/instances", "/ui/scriptlet"]) {
      const r = await get(page);
      expect(r.status, page).toBe(200);
      expect(await r.text(), page).toContain("<title>Berth</title>");
    }
  });

  it("is a 404 for a missing asset, not index.html", async () => {
    expect((await get("/ui/assets/app-0.js")).status).toBe(404);
    expect((await get("/ui/missing.css")).status).toBe(404);
  });

  it("never serves a file outside the dashboard's directory", async () => {
    for (const path of ["/ui/../berth-ui-secret.txt", "/ui/%2e%2e/berth-ui-secret.txt", "/ui/assets/%2e%2e%2f%2e%2e%2fberth-ui-secret.txt"]) {
      const r = await get(path);
      expect(await r.text(), path).not.toContain("outside");
    }
  });

  it("says how to build the dashboard when it is not built", async () => {
    const bare = await makeHarness({ uiDir: join(uiDir, "nothing-here") });
    try {
      const r = await bare.berth.app.request("/ui/");
      expect(r.status).toBe(503);
      expect(await r.text()).toContain("npm run build:ui");
    } finally {
      await bare.close();
    }
  });
});

describe("GET /1.0 auth_role", () => {
  it("is the caller's role: admin, or viewer for a viewer token", async () => {
    expect((await h.request("GET", "/1.0")).body.metadata.auth_role).toBe("admin");
    const viewer = (await h.request("POST", "/1.0/tokens", { role: "viewer", description: "dashboard" })).body.metadata.token;
    expect((await h.request("GET", "/1.0", undefined, viewer)).body.metadata.auth_role).toBe("viewer");
  });

  it("the API still needs a token beside the open dashboard", async () => {
    expect((await h.request("GET", "/1.0", undefined, null)).status).toBe(401);
  });
});
