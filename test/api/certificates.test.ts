/**
 * The trust store over the API, as LXD's /1.0/certificates: trust tokens made by an admin, traded
 * once over HTTPS for trust in the client's certificate, which then acts as admin; listing,
 * removing, and every refusal. Requests "over HTTPS" carry the TLS binding the HTTPS listener sets
 * (the client certificate's DER), as app.request's env; test/lxc/remote.test.ts does it with the
 * real lxc over a real TLS connection.
 */
import { X509Certificate } from "node:crypto";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TLS_PEER } from "../../src/api/auth.ts";
import { decodeTrustToken } from "../../src/domain/trustToken.ts";
import { ADMIN, makeHarness, type Harness } from "../support/harness.ts";
import { makeClientCertificate, type ClientCertificate } from "../support/clientCertificate.ts";

const URLS = ["https://192.0.2.10:8443", "https://[2001:db8::10]:8443"];
let h: Harness;
let laptop: ClientCertificate;
let other: ClientCertificate;
beforeAll(async () => {
  laptop = await makeClientCertificate("user@laptop");
  other = await makeClientCertificate("user@other");
});
beforeEach(async () => {
  h = await makeHarness({ endpoints: () => ({ urls: URLS, addresses: ["192.0.2.10:8443", "[2001:db8::10]:8443"] }) });
});
afterEach(async () => { await h.close(); });

/** A request over HTTPS: with the client certificate given (or none), and a bearer token only when given. */
async function overTls(method: string, path: string, opts: { cert?: ClientCertificate | null; body?: unknown; token?: string } = {}) {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const res = await h.berth.app.request(path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) }, {
    [TLS_PEER]: { certificate: opts.cert ? opts.cert.der : null, fingerprint: opts.cert ? opts.cert.fingerprint : null },
  });
  return { status: res.status, body: (await res.json()) as any, location: res.headers.get("location") };
}

/** POST /1.0/certificates {token: true} as the admin: the answer and the token text lxc would print. */
async function makeToken(name: string, extra: Record<string, unknown> = {}) {
  const r = await h.request("POST", "/1.0/certificates", { type: "client", name, token: true, ...extra });
  expect(r.status, r.body.error).toBe(202);
  const m = r.body.metadata.metadata;
  // What `lxc config trust add` does with the operation (shared/api ToCertificateAddToken + String()).
  const token = Buffer.from(JSON.stringify({
    client_name: m.request.name, fingerprint: m.fingerprint, addresses: m.addresses, secret: m.secret, expires_at: m.expiresAt,
  })).toString("base64");
  return { reply: r, token, id: r.body.metadata.id as string };
}

const register = (cert: ClientCertificate | null, password: string) =>
  overTls("POST", "/1.0/certificates", { cert, body: { type: "", name: "", certificate: "", password, token: false, restricted: false, projects: null } });

describe("trust tokens", () => {
  it("an admin's token: a Running token-class operation carrying the secret, the service's fingerprint and its HTTPS host:port; stored hashed", async () => {
    const { reply, token, id } = await makeToken("laptop", { expiry: "1h" });
    expect(reply.body).toMatchObject({ type: "async", operation: `/1.0/operations/${id}` });
    expect(reply.body.metadata).toMatchObject({ id, class: "token", status: "Running", status_code: 103, may_cancel: true });
    const fingerprint = (await h.request("GET", "/1.0")).body.metadata.environment.certificate_fingerprint;
    const decoded = decodeTrustToken(token);
    expect(decoded).toEqual({
      client_name: "laptop", fingerprint, addresses: ["192.0.2.10:8443", "[2001:db8::10]:8443"], secret: expect.any(String),
      expires_at: new Date(h.clock.ms + 3_600_000).toISOString(),
    });
    expect(JSON.stringify(await h.berth.services.store.dumpTable("trust_tokens"))).not.toContain(decoded.secret);
    const listed = await h.request("GET", "/1.0/trust-tokens?recursion=1");
    expect(listed.body.metadata).toEqual([expect.objectContaining({ id, name: "laptop", type: "client", status: "valid", used_at: null })]);
    expect(JSON.stringify(listed.body.metadata)).not.toContain(decoded.secret);
    expect((await h.request("GET", "/1.0/trust-tokens")).body.metadata).toEqual([`/1.0/trust-tokens/${id}`]);
  });

  it("the operation the answer points at shows the token without its secret; DELETE on it revokes the token, as LXD's revoke-token", async () => {
    const { reply, token, id } = await makeToken("laptop");
    const shown = await h.request("GET", reply.body.operation!);
    expect(shown.body.metadata).toMatchObject({ id, class: "token", status: "Running", may_cancel: true, metadata: { request: { name: "laptop" } } });
    expect(shown.body.metadata.metadata.secret).toBeUndefined();
    expect(JSON.stringify(shown.body)).not.toContain(decodeTrustToken(token).secret);
    const revoked = await h.request("DELETE", `/1.0/operations/${id}`);
    expect(revoked.body.metadata).toMatchObject({ status: "Cancelled", may_cancel: false });
    expect((await register(laptop, token)).body.error).toMatch(/revoked at /);

    const used = await makeToken("other");
    expect((await register(other, used.token)).status).toBe(201);
    expect((await h.request("GET", `/1.0/operations/${used.id}`)).body.metadata.status).toBe("Success");
    expect((await h.request("DELETE", `/1.0/operations/${used.id}`)).status).toBe(409);
    expect((await h.request("GET", "/1.0/operations/nosuch")).status).toBe(404);
  });

  it("only an admin makes tokens; bad requests name the field and write nothing", async () => {
    const viewer = (await h.request("POST", "/1.0/tokens", { role: "viewer" })).body.metadata.token;
    expect((await h.request("POST", "/1.0/certificates", { name: "x", token: true }, viewer)).status).toBe(403);
    const untrusted = await overTls("POST", "/1.0/certificates", { cert: laptop, body: { name: "x", type: "client", token: true } });
    expect(untrusted.status).toBe(403);
    expect(untrusted.body.error).toContain("Only an admin");
    const cases: [unknown, number, string][] = [
      [{ token: true }, 400, "name"],
      [{ name: "x", token: true, type: "metrics" }, 400, "type"],
      [{ name: "x", token: true, expiry: "forever" }, 400, "expiry"],
      [{ name: "x", token: true, expiry: "0s" }, 400, "expiry"],
      [{ name: "x", token: true, restricted: true }, 400, "restricted"],
      [{ name: "x", token: true, projects: ["default"] }, 400, "projects"],
      [{ name: "x", token: true, certificate: laptop.cert }, 400, "certificate"],
      [{ name: "x", token: true, colour: "red" }, 400, "colour"],
      [{ name: 7, token: true }, 400, "name"],
    ];
    for (const [body, status, field] of cases) {
      const r = await h.request("POST", "/1.0/certificates", body);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.body.error, JSON.stringify(body)).toContain(field);
    }
    expect(await h.berth.services.store.dumpTable("trust_tokens")).toEqual([]);
  });

  it("a service without an HTTPS listener makes no token (409) and writes nothing", async () => {
    await h.close();
    h = await makeHarness({ endpoints: () => ({ urls: ["http://127.0.0.1:8443"], addresses: ["127.0.0.1:8443"] }) });
    const r = await h.request("POST", "/1.0/certificates", { name: "x", token: true });
    expect(r.status).toBe(409);
    expect(r.body.error).toContain("--tls");
    expect(await h.berth.services.store.dumpTable("trust_tokens")).toEqual([]);
  });
});

describe("registering a client certificate with a token", () => {
  it("trusts the presented certificate under the token's name; it then acts as admin, over HTTPS only", async () => {
    const { token, id } = await makeToken("laptop");
    const before = await overTls("GET", "/1.0", { cert: laptop });
    expect(before.body.metadata).toEqual({
      api_extensions: expect.arrayContaining(["certificate_token"]), api_status: "stable", api_version: "1.0", auth: "untrusted", public: false, auth_methods: ["tls"],
    });
    expect((await overTls("GET", "/1.0/cluster/members", { cert: laptop })).status).toBe(401);

    const r = await register(laptop, token);
    expect(r.status, r.body.error).toBe(201);
    expect(r.location).toBe(`/1.0/certificates/${laptop.fingerprint}`);
    const listed = await h.request("GET", "/1.0/certificates?recursion=1");
    expect(listed.body.metadata).toEqual([{
      fingerprint: laptop.fingerprint, name: "laptop", type: "client", certificate: expect.stringMatching(/^-----BEGIN CERTIFICATE-----\n/), restricted: false, projects: [],
      created_at: new Date(h.clock.ms).toISOString(),
    }]);
    expect(Buffer.from(new X509Certificate(listed.body.metadata[0].certificate).raw)).toEqual(Buffer.from(laptop.der)); // the PEM of the presented one
    expect((await h.request("GET", "/1.0/certificates")).body.metadata).toEqual([`/1.0/certificates/${laptop.fingerprint}`]);
    expect((await h.request("GET", `/1.0/trust-tokens/${id}`)).body.metadata).toMatchObject({ status: "used", fingerprint: laptop.fingerprint });

    const info = await overTls("GET", "/1.0", { cert: laptop });
    expect(info.body.metadata).toMatchObject({ auth: "trusted", auth_user_method: "tls", auth_user_name: laptop.fingerprint, auth_role: "admin" });
    const created = await overTls("POST", "/1.0/cluster/members", { cert: laptop, body: { server_name: "n9" } });
    expect(created.status, created.body.error).toBe(201);
    // Another certificate, and the same one over plain HTTP (no TLS binding), are not trusted.
    expect((await overTls("GET", "/1.0/cluster/members", { cert: other })).body.error).toContain(`fingerprint ${other.fingerprint}) is not trusted`);
    expect((await h.request("GET", "/1.0/cluster/members", undefined, null)).status).toBe(401);
    // A bearer token, when sent, decides: a wrong one is refused even with a trusted certificate.
    expect((await overTls("GET", "/1.0", { cert: laptop, token: "berth_nope" })).status).toBe(401);
    // A trusted client sending a token again is told so.
    expect((await register(laptop, token)).body.error).toBe("Client is already trusted");
  });

  it("a token works once; expired, revoked, foreign and malformed tokens are refused, saying why, and trust nothing", async () => {
    const first = await makeToken("laptop");
    expect((await register(laptop, first.token)).status).toBe(201);
    const used = await register(other, first.token);
    expect(used.status).toBe(403);
    expect(used.body.error).toMatch(/already used at .*: a trust token works once/);

    const late = await makeToken("late", { expiry: "10m" });
    await h.clock.advance(601);
    const expired = await register(other, late.token);
    expect(expired.status).toBe(403);
    expect(expired.body.error).toMatch(/expired at /);

    const revoked = await makeToken("gone");
    expect((await h.request("DELETE", `/1.0/trust-tokens/${revoked.id}`)).status).toBe(200);
    const r = await register(other, revoked.token);
    expect(r.status).toBe(403);
    expect(r.body.error).toMatch(/revoked at /);
    expect((await h.request("GET", `/1.0/trust-tokens/${revoked.id}`)).body.metadata.status).toBe("revoked");
    // A used token cannot be revoked: the answer names the certificate to remove.
    const again = await h.request("DELETE", `/1.0/trust-tokens/${first.id}`);
    expect(again.status).toBe(409);
    expect(again.body.error).toContain(laptop.fingerprint);

    const foreign = Buffer.from(JSON.stringify({ ...decodeTrustToken(first.token), secret: "A".repeat(43) })).toString("base64");
    expect(await register(other, foreign)).toMatchObject({ status: 403, body: { error: expect.stringContaining("never issued") } });
    expect(await register(other, "hunter2!")).toMatchObject({ status: 400, body: { error: expect.stringContaining("password: not a trust token") } });
    expect((await register(other, "")).status).toBe(403);

    // No client certificate (or no TLS at all): 400, and the token stays unused.
    const fresh = await makeToken("fresh");
    expect(await register(null, fresh.token)).toMatchObject({ status: 400, body: { error: expect.stringContaining("No client certificate") } });
    const plain = await h.request("POST", "/1.0/certificates", { password: fresh.token }, null);
    expect(plain.status).toBe(400);
    expect((await h.request("GET", `/1.0/trust-tokens/${fresh.id}`)).body.metadata.status).toBe("valid");
    // An expired client certificate is refused (400) without using the token.
    const stale = await makeClientCertificate("stale", { from: "2019-01-01", to: "2020-01-01" });
    expect(await register(stale, fresh.token)).toMatchObject({ status: 400, body: { error: expect.stringContaining("expired") } });
    expect((await register(other, fresh.token)).status).toBe(201);
    expect((await h.request("GET", "/1.0/certificates?recursion=1")).body.metadata.map((c: any) => c.name)).toEqual(["laptop", "fresh"]);
  });

  it("the trust_token field (later LXD clients) and a bare secret work as password does", async () => {
    const a = await makeToken("a");
    expect((await overTls("POST", "/1.0/certificates", { cert: laptop, body: { trust_token: a.token } })).status).toBe(201);
    const b = await makeToken("b");
    expect((await overTls("POST", "/1.0/certificates", { cert: other, body: { password: decodeTrustToken(b.token).secret } })).status).toBe(201);
  });
});

describe("managing trusted certificates", () => {
  it("an admin adds a certificate directly (base64 DER as lxc sends, or PEM); a repeat is 409; bad material is 400", async () => {
    const r = await h.request("POST", "/1.0/certificates", { name: "ci", type: "client", certificate: Buffer.from(laptop.der).toString("base64") });
    expect(r.status, r.body.error).toBe(201);
    expect(r.body.metadata).toMatchObject({ fingerprint: laptop.fingerprint, name: "ci" });
    const pem = await h.request("POST", "/1.0/certificates", { certificate: other.cert });
    expect(pem.body.metadata).toMatchObject({ fingerprint: other.fingerprint, name: "user@other" }); // named after its CN
    expect((await h.request("POST", "/1.0/certificates", { certificate: other.cert })).status).toBe(409);
    for (const certificate of ["not base64!", Buffer.from("junk").toString("base64"), "-----BEGIN CERTIFICATE-----\nxx\n-----END CERTIFICATE-----"]) {
      const bad = await h.request("POST", "/1.0/certificates", { certificate });
      expect(bad.status, certificate).toBe(400);
      expect(bad.body.error).toContain("certificate");
    }
    // Only an admin adds a certificate directly: an untrusted client cannot add its own that way.
    const stranger = await makeClientCertificate("stranger");
    expect((await overTls("POST", "/1.0/certificates", { cert: stranger, body: { certificate: stranger.cert } })).status).toBe(403);
  });

  it("show and remove by fingerprint or a unique prefix; a removed certificate is untrusted at once", async () => {
    const { token } = await makeToken("laptop");
    expect((await register(laptop, token)).status).toBe(201);
    expect((await overTls("GET", "/1.0/cluster/members", { cert: laptop })).status).toBe(200);
    expect((await h.request("GET", `/1.0/certificates/${laptop.fingerprint.slice(0, 12)}`)).body.metadata.name).toBe("laptop");
    expect((await h.request("GET", `/1.0/certificates/${"0".repeat(64)}`)).status).toBe(404);
    expect((await h.request("GET", "/1.0/certificates/xyz")).status).toBe(400);
    const viewer = (await h.request("POST", "/1.0/tokens", { role: "viewer" })).body.metadata.token;
    expect((await h.request("DELETE", `/1.0/certificates/${laptop.fingerprint}`, undefined, viewer)).status).toBe(403);
    expect((await h.request("DELETE", `/1.0/certificates/${laptop.fingerprint.slice(0, 12)}`)).status).toBe(200);
    expect((await overTls("GET", "/1.0/cluster/members", { cert: laptop })).status).toBe(401);
    expect((await overTls("GET", "/1.0", { cert: laptop })).body.metadata.auth).toBe("untrusted");
    expect((await h.request("DELETE", `/1.0/certificates/${laptop.fingerprint}`)).status).toBe(404);
    expect((await h.request("GET", "/1.0/certificates")).body.metadata).toEqual([]);
  });

  it("plain HTTP keeps Berth's rule: GET /1.0 without a token is 401", async () => {
    expect((await h.request("GET", "/1.0", undefined, null)).status).toBe(401);
    expect((await overTls("GET", "/1.0", { cert: null })).body.metadata.auth).toBe("untrusted");
    expect((await h.request("GET", "/1.0", undefined, ADMIN)).body.metadata).toMatchObject({ auth: "trusted", auth_user_method: "token (admin)" });
  });
});
