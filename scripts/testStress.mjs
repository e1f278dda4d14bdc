#!/usr/bin/env node
/**
 * npm run test:stress: the whole suite while another process keeps every core busy (one busy loop
 * per core), as on a loaded CI machine. Exits with the suite's exit code.
 */
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";

const hogs = Array.from({ length: availableParallelism() }, () =>
  spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));
console.log(`test:stress: ${hogs.length} busy loop(s) running beside the suite`);
const stopHogs = () => { for (const hog of hogs) hog.kill("SIGKILL"); };
process.on("exit", stopHogs);
const suite = spawn("npm", ["test", "--", ...process.argv.slice(2)], { stdio: "inherit" });
suite.on("exit", (code, signal) => {
  stopHogs();
  process.exit(code ?? (signal ? 1 : 0));
});
