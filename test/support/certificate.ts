/** The run's test certificate (made once by globalSetup.ts), put in a data directory as a previous start would have left it. */
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CERT_FILE, certificateFingerprint, KEY_FILE } from "../../src/net/certificate.ts";

/** Copies the run's certificate into dataDir unless it has one; without globalSetup (benchmarks) the service makes its own. */
export function seedCertificate(dataDir: string): void {
  const from = process.env.BERTH_TEST_CERT_DIR;
  if (!from || existsSync(join(dataDir, CERT_FILE))) return;
  copyFileSync(join(from, KEY_FILE), join(dataDir, KEY_FILE));
  copyFileSync(join(from, CERT_FILE), join(dataDir, CERT_FILE));
}

/** The fingerprint of the certificate in a data directory. */
export function fingerprintIn(dataDir: string): string {
  return certificateFingerprint(readFileSync(join(dataDir, CERT_FILE)));
}
