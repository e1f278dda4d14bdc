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

/**
 * A request over HTTPS presenting `client` (or no certificate) the way lxc does: no bearer token,
 * a fresh connection each time, the server's certificate pinned by fingerprint.
 */
export async function tlsRequest(
  url: string, serverFingerprint: string, client: ClientCertificate | null, method: string, path: string, body?: unknown,
): Promise<{ status: number; body: any }> {
  const { request } = await import("node:https");
  const target = new URL(path, url);
  return new Promise((resolve, reject) => {
    const req = request(target, {
      method, agent: false, rejectUnauthorized: false, cert: client?.cert, key: client?.key,
      headers: body === undefined ? {} : { "content-type": "application/json" },
    }, (res) => {
      const peer = (res.socket as import("node:tls").TLSSocket).getPeerCertificate();
      if (peer.fingerprint256.replace(/:/g, "").toLowerCase() !== serverFingerprint) {
        reject(new Error(`the server's certificate is not ${serverFingerprint}`));
        return;
      }
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => { text += chunk; });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
