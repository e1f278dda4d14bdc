/**
 * commander's classes, loaded with require: importing a CommonJS package from an ES module costs
 * Node a CommonJS export scan and the package's ESM wrapper, ~10 ms of a CLI call that should cost
 * little more than starting Node. Types still come from `import type ... from "commander"`.
 */
import { createRequire } from "node:module";
import type * as Commander from "commander";

const commander = createRequire(import.meta.url)("commander") as typeof Commander;

export const { Command, CommanderError, Option } = commander;
