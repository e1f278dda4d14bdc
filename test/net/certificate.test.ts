import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { certificateFingerprint, loadOrCreateCertificate } from "../../src/net/certificate.ts";

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), "berth-cert-")); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("the service certificate", () => {
  it("is generated on first start (P-384, files 0600), and the same one is used on the next start", async () => {
    const first = await loadOrCreateCertificate({ dataDir: dir });
    expect(first.generated).toBe(true);
    for (const file of ["server.crt", "server.key"]) expect(statSync(join(dir, file)).mode & 0o777, file).toBe(0o600);
    const x509 = new X509Certificate(readFileSync(join(dir, "server.crt")));
    expect(x509.publicKey.asymmetricKeyDetails?.namedCurve).toBe("secp384r1");
    expect(x509.checkPrivateKey(createPrivateKey(readFileSync(join(dir, "server.key"))))).toBe(true);
    expect(x509.subjectAltName).toContain("IP Address:127.0.0.1");
    // The fingerprint is the SHA-256 of the DER: node's own figure, without colons, lower case.
    expect(first.fingerprint).toBe(x509.fingerprint256.replace(/:/g, "").toLowerCase());
    expect(first.fingerprint).toMatch(/^[0-9a-f]{64}$/);

    const second = await loadOrCreateCertificate({ dataDir: dir });
    expect(second).toMatchObject({ generated: false, fingerprint: first.fingerprint, cert: first.cert });
  });

  it("uses given files, checks they belong together, and names the file when something is wrong", async () => {
    const other = mkdtempSync(join(tmpdir(), "berth-cert-other-"));
    try {
      const a = await loadOrCreateCertificate({ dataDir: dir });
      const b = await loadOrCreateCertificate({ dataDir: other });
      const given = await loadOrCreateCertificate({ dataDir: other, certFile: a.certFile, keyFile: a.keyFile });
      expect(given.fingerprint).toBe(a.fingerprint);
      await expect(loadOrCreateCertificate({ dataDir: dir, certFile: a.certFile })).rejects.toThrow("--tls-cert and --tls-key go together");
      await expect(loadOrCreateCertificate({ dataDir: dir, certFile: a.certFile, keyFile: b.keyFile }))
        .rejects.toThrow(`${b.keyFile} is not the private key of the certificate in ${a.certFile}`);
      await expect(loadOrCreateCertificate({ dataDir: dir, certFile: join(dir, "nope.crt"), keyFile: a.keyFile }))
        .rejects.toThrow(`--tls-cert: cannot read ${join(dir, "nope.crt")} (ENOENT)`);
      writeFileSync(join(other, "junk.crt"), "hello");
      await expect(loadOrCreateCertificate({ dataDir: dir, certFile: join(other, "junk.crt"), keyFile: a.keyFile }))
        .rejects.toThrow("is not a PEM certificate");
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it("refuses to start with half a pair instead of silently replacing the certificate clients pinned", async () => {
    await loadOrCreateCertificate({ dataDir: dir });
    unlinkSync(join(dir, "server.key"));
    await expect(loadOrCreateCertificate({ dataDir: dir })).rejects.toThrow(/server\.crt exists but .*server\.key does not/);
  });

  it("certificateFingerprint reads a PEM", async () => {
    const c = await loadOrCreateCertificate({ dataDir: dir });
    expect(certificateFingerprint(c.cert)).toBe(c.fingerprint);
  });
});
