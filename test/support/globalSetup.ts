/**
 * Once per test run: one self-signed service certificate, made the way `berth serve` makes it, in
 * a temporary directory named by BERTH_TEST_CERT_DIR. The test harnesses start their services
 * with a copy of it (as a second start finds it in its data directory), so that each test file
 * does not load the certificate generator and make a key of its own; test/net/certificate.test.ts
 * covers generation itself.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadOrCreateCertificate } from "../../src/net/certificate.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The latest modification time of any file under dir. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export default async function setup(): Promise<() => void> {
  const dir = mkdtempSync(join(tmpdir(), "berth-test-cert-"));
  await loadOrCreateCertificate({ dataDir: dir });
  process.env.BERTH_TEST_CERT_DIR = dir;
  // Scriptlet sandbox workers start in ~0.1 s instead of ~1.2 s: no warm-up (a speed-up for the
  // first placements, which the tests do not measure), and the compiled worker when the build
  // (npm test builds first) is newer than every source file, rather than worker.ts through tsx.
  process.env.BERTH_SANDBOX_WARM_UP_MS ??= "0";
  const worker = join(ROOT, "dist/sandbox/worker.js");
  if (!process.env.BERTH_SANDBOX_WORKER && existsSync(worker) && statSync(worker).mtimeMs >= newestSource(join(ROOT, "src"))) {
    process.env.BERTH_SANDBOX_WORKER = worker;
  }
  return () => rmSync(dir, { recursive: true, force: true });
}
