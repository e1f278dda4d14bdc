#!/usr/bin/env node
// Entry point: Berth is TypeScript run through tsx, so register its loader, then hand over to the CLI.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/index.ts");
await main(process.argv);
