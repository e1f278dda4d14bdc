/**
 * /ui/: the dashboard, built by `npm run build:ui` into ui/dist and served as static files. They
 * hold no data, so they need no token: the page signs in and sends the token on every API call.
 * Everything the page loads comes from Berth, which the Content-Security-Policy holds it to.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";
import type { Context, Hono } from "hono";
import type { AuthEnv } from "../auth.ts";

/** Where index.html holds the page's style nonce (ui/index.html); replaced on every response. */
export const NONCE_PLACEHOLDER = "BERTH_CSP_NONCE";

/**
 * Scripts, styles, images, fonts and API calls from this origin only; no inline script, no frames,
 * no forms posted away. Two exceptions, both for the code editor (CodeMirror): a per-response nonce
 * for <style> elements (it writes its theme into one), and data: images (its error marker and
 * underline are small SVGs in its theme; an image cannot run code).
 */
export function contentSecurityPolicy(styleNonce?: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    styleNonce ? `style-src 'self' 'nonce-${styleNonce}'` : "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Berth</title>
<p>The Berth dashboard has not been built. Run <code>npm run build:ui</code> (<code>npm ci</code> runs it) and reload.</p>`;

function securityHeaders(c: Context, styleNonce?: string): void {
  c.header("Content-Security-Policy", contentSecurityPolicy(styleNonce));
  c.header("X-Content-Type-Options", "nosniff");
  c.header("X-Frame-Options", "DENY");
  c.header("Referrer-Policy", "no-referrer");
  c.header("Cross-Origin-Opener-Policy", "same-origin");
  c.header("Cross-Origin-Resource-Policy", "same-origin");
}

/** The file under root a /ui/ sub-path names, or null when it tries to leave root or is malformed. */
function fileOf(root: string, subPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(subPath);
  } catch {
    return null;
  }
  if (decoded.includes("\0") || decoded.split("/").some((segment) => segment === "..")) return null;
  const file = resolve(join(root, decoded));
  return file === root || file.startsWith(root + sep) ? file : null;
}

async function readIfFile(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EISDIR" || code === "ENOTDIR") return null;
    throw err;
  }
}

/** A built asset (assets/x.js) or a top-level file (favicon.svg), as opposed to a page of the dashboard. */
function isAssetPath(subPath: string): boolean {
  return subPath.startsWith("assets/") || (!subPath.includes("/") && extname(subPath) in CONTENT_TYPES);
}

/**
 * Serves `dir` (ui/dist) at /ui/. A path naming a file serves it; a missing asset (an old hashed
 * name) is a 404; any other path is a page of the dashboard, which routes in the browser, and gets
 * index.html (member names may hold dots: /ui/members/node1.lan is a page).
 */
export function uiRoutes(app: Hono<AuthEnv>, dir: string): void {
  const root = resolve(dir);
  app.get("/ui", (c) => c.redirect("/ui/", 301));
  app.get("/ui/*", async (c) => {
    const subPath = c.req.path.slice("/ui/".length);
    const file = subPath === "" ? join(root, "index.html") : fileOf(root, subPath);
    if (file === null) return c.text("Bad path", 400);
    const body = await readIfFile(file);
    if (body !== null && !file.endsWith(`${sep}index.html`)) {
      securityHeaders(c);
      c.header("Content-Type", CONTENT_TYPES[extname(file)] ?? "application/octet-stream");
      // Vite names built assets by their content hash: they never change under one name.
      c.header("Cache-Control", subPath.startsWith("assets/") ? "public, max-age=31536000, immutable" : "no-cache");
      return c.body(new Uint8Array(body));
    }
    if (body === null && isAssetPath(subPath)) {
      securityHeaders(c);
      return c.text(`Not found: ${c.req.path}`, 404);
    }
    const index = await readIfFile(join(root, "index.html"));
    c.header("Cache-Control", "no-cache");
    if (index === null) {
      securityHeaders(c);
      return c.html(NOT_BUILT, 503);
    }
    const nonce = randomBytes(16).toString("base64");
    securityHeaders(c, nonce);
    return c.html(index.toString("utf8").replaceAll(NONCE_PLACEHOLDER, nonce));
  });
}
