/** Client certificates for tests of the trust store: ECDSA P-256, valid 2020–2040 (the harness's fake clock is in 2026). */
import { X509Certificate } from "node:crypto";
import { generate } from "selfsigned";

export interface ClientCertificate {
  cert: string;
  key: string;
  der: Uint8Array;
  fingerprint: string;
}

export async function makeClientCertificate(commonName: string, validity = { from: "2020-01-01", to: "2040-01-01" }): Promise<ClientCertificate> {
  const pems = await generate([{ name: "commonName", value: commonName }], {
    keyType: "ec", curve: "P-256", algorithm: "sha256",
    notBeforeDate: new Date(validity.from), notAfterDate: new Date(validity.to),
    extensions: [{ name: "basicConstraints", cA: false }, { name: "extKeyUsage", clientAuth: true }],
  });
  const x509 = new X509Certificate(pems.cert);
  return { cert: pems.cert, key: pems.private, der: new Uint8Array(x509.raw), fingerprint: x509.fingerprint256.replace(/:/g, "").toLowerCase() };
}
