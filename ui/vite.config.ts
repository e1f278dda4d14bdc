/** Builds the dashboard (ui/src) into ui/dist, served by `berth serve` at /ui/ (src/api/routes/ui.ts). */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/ui/",
  // JSX is Preact's (automatic runtime); no framework plugin needed.
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // Chromium, Firefox and Safari of the last years: no polyfill, nothing inline (the CSP allows no inline script).
    target: "es2022",
    modulePreload: { polyfill: false },
    // Every asset is a file served by Berth; nothing becomes a data: URL.
    assetsInlineLimit: 0,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1024,
  },
});
