/** The pinned HTTPS client against real TLS servers on loopback. */
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { join } from "node:path";
import { createServer as createTlsServer, type Server as TlsServer } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { loadOrCreateCertificate, type ServerCertificate } from "../../src/net/certificate.ts";
import { CertificateMismatchError, pinnedRequest, pinnedRequestText, PlainHttpRefusedError } from "../../src/net/pinned.ts";
import { seedCertificate } from "../support/certificate.ts";

let dir: string;
let cert: ServerCertificate;
let server: ReturnType<typeof createHttpsServer>;
let url: string;
const seen: { method?: string; url?: string; auth?: string; body: string }[] = [];

const listen = (s: HttpServer | TlsServer) => new Promise<number>((resolve) => s.listen(0, "127.0.0.1", () => resolve((s.address() as { port: number }).port)));
const close = (s: HttpServer | TlsServer) => new Promise<void>((resolve) => s.close(() => resolve()));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "berth-pinned-"));
  seedCertificate(dir);
  cert = await loadOrCreateCertificate({ dataDir: dir });
  server = createHttpsServer({ cert: cert.cert, key: cert.key }, (req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => { body += c.toString(); });
    req.on("end", () => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ ok: true, method: req.method, url: req.url, type: req.headers["content-type"] ?? null }));
    });
  });
  url = `https://127.0.0.1:${await listen(server)}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await close(server);
  rmSync(dir, { recursive: true, force: true });
});

describe("pinnedRequest", () => {
  it("talks to the server whose certificate has the pinned fingerprint, in any usual spelling", async () => {
    const colons = cert.fingerprint.toUpperCase().match(/../g)!.join(":");
    for (const pin of [cert.fingerprint, colons]) {
      const r = await pinnedRequestText(url, pin, { method: "POST", path: "/1.0/x", query: { a: 1, b: undefined }, body: { hello: "there" } });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.text)).toEqual({ ok: true, method: "POST", url: "/1.0/x?a=1", type: "application/json" });
    }
    expect(seen.at(-1)?.body).toBe('{"hello":"there"}');
  });

  it("refuses another certificate with both fingerprints named, and sends nothing to that server", async () => {
    // A bare TLS server with the right certificate's impostor: anything the client writes is recorded.
    const otherDir = mkdtempSync(join(tmpdir(), "berth-pinned-other-"));
    const impostorCert = await loadOrCreateCertificate({ dataDir: otherDir });
    let received = 0;
    const closed: Promise<void>[] = [];
    const impostor = createTlsServer({ cert: impostorCert.cert, key: impostorCert.key }, (socket) => {
      socket.on("data", (c: Buffer) => { received += c.length; });
      closed.push(new Promise((resolve) => socket.once("close", () => resolve())));
      socket.on("error", () => {});
    });
    const port = await listen(impostor);
    try {
      const attempt = pinnedRequest(`https://127.0.0.1:${port}`, cert.fingerprint, {
        method: "POST", path: "/1.0/cluster/join", headers: { authorization: "Bearer top-secret" }, body: { secret: "also-secret" },
      });
      await expect(attempt).rejects.toBeInstanceOf(CertificateMismatchError);
      const err = (await attempt.catch((e: unknown) => e)) as CertificateMismatchError;
      expect(err.message).toContain(cert.fingerprint);
      expect(err.message).toContain(impostorCert.fingerprint);
      expect(err).toMatchObject({ expected: cert.fingerprint, actual: impostorCert.fingerprint });
      await Promise.all(closed);
      expect(received).toBe(0); // not a byte of the request (its token, its secret) reached the impostor
    } finally {
      await close(impostor);
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  it("without a fingerprint, checks the certificate against the authorities as node does (a self-signed one fails)", async () => {
    await expect(pinnedRequest(url, null, { path: "/" })).rejects.toMatchObject({ code: expect.stringMatching(/SELF_SIGNED/) });
  });

  it("keeps a pinned connection alive between requests", async () => {
    const ports = new Set<number>();
    for (let i = 0; i < 3; i++) {
      const res = await pinnedRequest(url, cert.fingerprint, { path: "/again" });
      ports.add(res.socket.localPort!);
      res.resume();
      await new Promise((resolve) => res.once("end", resolve));
    }
    expect(ports.size).toBe(1);
  });

  it("sends a request again, once, when the server closed its kept-alive connection as the request went out", async () => {
    // The second request on any connection is dropped unanswered, as a server's idle timeout does
    // when it fires just as a client reuses the connection.
    const connections = new Set<unknown>();
    const requestsOn = new WeakMap<object, number>();
    let requests = 0;
    const racy = createHttpsServer({ cert: cert.cert, key: cert.key }, (req, res) => {
      requests++;
      connections.add(req.socket);
      const n = (requestsOn.get(req.socket) ?? 0) + 1;
      requestsOn.set(req.socket, n);
      if (n > 1 || req.url === "/always-dropped") req.socket.destroy();
      else res.end("answered");
    });
    const racyUrl = `https://127.0.0.1:${await listen(racy)}`;
    try {
      expect((await pinnedRequestText(racyUrl, cert.fingerprint, { path: "/first" })).text).toBe("answered");
      expect((await pinnedRequestText(racyUrl, cert.fingerprint, { path: "/second", method: "POST", body: { n: 2 } })).text).toBe("answered");
      expect(requests).toBe(3); // the second was dropped once, then answered on a new connection
      expect(connections.size).toBe(2);
      // Once only: a request dropped on its retry as well fails with the reset.
      await expect(pinnedRequestText(racyUrl, cert.fingerprint, { path: "/always-dropped" })).rejects.toMatchObject({ code: "ECONNRESET" });
    } finally {
      racy.closeAllConnections();
      await close(racy);
    }
  });

  it("plain HTTP: allowed on loopback, refused to another host when a fingerprint is pinned", async () => {
    const plain = createHttpServer((_req, res) => res.end("plain"));
    const port = await listen(plain);
    try {
      expect((await pinnedRequestText(`http://127.0.0.1:${port}`, cert.fingerprint)).text).toBe("plain");
      await expect(pinnedRequest("http://192.0.2.1:8443", cert.fingerprint)).rejects.toBeInstanceOf(PlainHttpRefusedError);
    } finally {
      await close(plain);
    }
  });

  it("refuses a fingerprint that is not one", async () => {
    await expect(pinnedRequest(url, "abc")).rejects.toThrow('"abc" is not a SHA-256 certificate fingerprint');
  });
});
