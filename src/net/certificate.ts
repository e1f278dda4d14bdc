/**
 * The service's TLS certificate. On first start `berth serve` generates a self-signed one
 * (ECDSA P-384, ten years, as LXD) into <data>/server.crt and <data>/server.key (mode 0600) and
 * uses it on every later start; --tls-cert/--tls-key use given files instead. Clients pin it by
 * its fingerprint (the SHA-256 of its DER), which GET /1.0 and every join token carry.
 */
import { createHash, createPrivateKey, X509Certificate } from "node:crypto";
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

export interface ServerCertificate {
  /** PEM of the certificate (or chain) sent to clients. */
  cert: string;
  /** PEM of its private key. */
  key: string;
  /** SHA-256 of the (first) certificate's DER, lowercase hex: what clients pin. */
  fingerprint: string;
  certFile: string;
  keyFile: string;
  /** True when this start generated it. */
  generated: boolean;
}

export const CERT_FILE = "server.crt";
export const KEY_FILE = "server.key";
const VALIDITY_DAYS = 3650;

/** SHA-256 of a PEM certificate's DER (the first certificate of a chain), lowercase hex. */
export function certificateFingerprint(pem: string | Buffer): string {
  return createHash("sha256").update(new X509Certificate(pem).raw).digest("hex");
}

/**
 * The certificate this service serves: the given files (both or neither), else <dataDir>/server.crt
 * and server.key, generated when neither exists yet. Errors name the file and what to do.
 */
export async function loadOrCreateCertificate(opts: { dataDir: string; certFile?: string; keyFile?: string }): Promise<ServerCertificate> {
  if (opts.certFile || opts.keyFile) {
    if (!opts.certFile || !opts.keyFile) {
      throw new Error(`--tls-cert and --tls-key go together: give both files, or neither to use the generated ${CERT_FILE} in the data directory`);
    }
    return { ...readPair(opts.certFile, opts.keyFile, "--tls-cert", "--tls-key"), generated: false };
  }
  const certFile = join(opts.dataDir, CERT_FILE);
  const keyFile = join(opts.dataDir, KEY_FILE);
  const haveCert = existsSync(certFile);
  const haveKey = existsSync(keyFile);
  if (haveCert && haveKey) return { ...readPair(certFile, keyFile, certFile, keyFile), generated: false };
  if (haveCert !== haveKey) {
    const [present, missing] = haveCert ? [certFile, keyFile] : [keyFile, certFile];
    throw new Error(`${present} exists but ${missing} does not: restore the missing file, or remove ${present} to generate a new certificate (clients that pinned the old fingerprint must then pin the new one)`);
  }
  const { cert, key } = await generateSelfSigned();
  // Each file is written beside, then renamed into place: a crash never leaves half a file.
  writeAtomically(keyFile, key);
  writeAtomically(certFile, cert);
  return { cert, key, fingerprint: certificateFingerprint(cert), certFile, keyFile, generated: true };
}

function readPair(certFile: string, keyFile: string, certLabel: string, keyLabel: string): Omit<ServerCertificate, "generated"> {
  return checkPair(readText(certFile, certLabel), readText(keyFile, keyLabel), certLabel, keyLabel, certFile, keyFile);
}

function checkPair(cert: string, key: string, certLabel: string, keyLabel: string, certFile: string, keyFile: string): Omit<ServerCertificate, "generated"> {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new Error(`${certLabel}: ${certFile} is not a PEM certificate (${(err as Error).message})`, { cause: err });
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new Error(`${keyLabel}: ${keyFile} is not an unencrypted PEM private key (${(err as Error).message})`, { cause: err });
  }
  if (!x509.checkPrivateKey(privateKey)) throw new Error(`${keyFile} is not the private key of the certificate in ${certFile}`);
  return { cert, key, fingerprint: certificateFingerprint(cert), certFile, keyFile };
}

function readText(file: string, label: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`${label}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
}

function writeAtomically(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600 });
  chmodSync(temporary, 0o600); // whatever the umask
  renameSync(temporary, file);
}

/**
 * The certificate several replicas share (kept in their database): checked as a pair like given
 * files, `where` naming its place in messages.
 */
export function certificateFromPem(cert: string, key: string, where: string): ServerCertificate {
  return { ...checkPair(cert, key, `${where} (certificate)`, `${where} (key)`, where, where), generated: false };
}

/** A self-signed ECDSA P-384 certificate for this host (selfsigned, loaded only when one is made). */
export async function generateSelfSigned(): Promise<{ cert: string; key: string }> {
  const { generate } = await import("selfsigned");
  const host = hostname();
  const now = Date.now();
  const pems = await generate([{ name: "organizationName", value: "Berth" }, { name: "commonName", value: `berth@${host}` }], {
    keyType: "ec",
    curve: "P-384",
    algorithm: "sha384",
    // An hour back: a client whose clock is a little behind still finds it valid.
    notBeforeDate: new Date(now - 3_600_000),
    notAfterDate: new Date(now + VALIDITY_DAYS * 86_400_000),
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [{ type: 2, value: host }, { type: 2, value: "localhost" }, { type: 7, ip: "127.0.0.1" }, { type: 7, ip: "::1" }],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}
