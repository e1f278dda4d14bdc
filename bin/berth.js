#!/usr/bin/env node
// Entry point: the compiled CLI in dist/, built by `npm run build` (which `npm ci` runs through `prepare`).
import { existsSync } from "node:fs";
import module from "node:module";

// Node 22.1+ can keep compiled code between runs (much of a call's start-up); Node 20 has no such API.
module.enableCompileCache?.();

const cli = new URL("../dist/cli/index.js", import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write("Error: Berth is not built (no dist/cli/index.js). Run `npm run build` (or `npm ci`) in the Berth directory first.\n");
  process.exit(1);
}
const { main } = await import(cli.href);
await main(process.argv);
