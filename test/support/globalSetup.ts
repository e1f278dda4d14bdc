/**
 * Once per test run: one self-signed service certificate, made the way `berth serve` makes it, in
 * a temporary directory named by BERTH_TEST_CERT_DIR. The test harnesses start their services
 * with a copy of it (as a second start finds it in its data directory), so that each test file
 * does not load the certificate generator and make a key of its own; test/net/certificate.test.ts
 * covers generation itself.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateCertificate } from "../../src/net/certificate.ts";

export default async function setup(): Promise<() => void> {
  const dir = mkdtempSync(join(tmpdir(), "berth-test-cert-"));
  await loadOrCreateCertificate({ dataDir: dir });
  process.env.BERTH_TEST_CERT_DIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
