import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../../bin/berth.js", import.meta.url));
const PACKAGE = JSON.parse(readFileSync(fileURLToPath(new URL("../../package.json", import.meta.url)), "utf8")) as { version: string };

const run = (args: string[]) => new Promise<{ code: number; stdout: string }>((resolve) => {
  execFile(process.execPath, [BIN, ...args], { timeout: 20_000 }, (err, stdout) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout }));
});

describe("berth --version", () => {
  it("prints the package's version and exits 0 (also -V)", async () => {
    const [long, short] = await Promise.all([run(["--version"]), run(["-V"])]);
    expect(long).toEqual({ code: 0, stdout: `${PACKAGE.version}\n` });
    expect(short).toEqual({ code: 0, stdout: `${PACKAGE.version}\n` });
  });
});
