/**
 * `berth trust ...` against a real HTTPS service (--tls on loopback): a token the CLI prints is
 * accepted by a client presenting its certificate over a real TLS connection; the certificate is
 * then listed, acts as admin, and stops working once removed. (test/lxc/remote.test.ts does the
 * same with the real lxc client.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeTrustToken } from "../../src/domain/trustToken.ts";
import { makeClientCertificate, tlsRequest, type ClientCertificate } from "../support/clientCertificate.ts";
import { startCliHarness, type CliHarness } from "./cliHarness.ts";

let h: CliHarness;
let laptop: ClientCertificate;
beforeAll(async () => {
  h = await startCliHarness({ tls: true });
  laptop = await makeClientCertificate("user@laptop", { from: "2020-01-01", to: "2040-01-01" });
}, 60_000);
afterAll(async () => { await h?.close(); });

const lastLine = (text: string) => text.trim().split("\n").at(-2)!; // the token; the last line says what to do with it

describe("berth trust", () => {
  it("add prints an LXD certificate add token; a client presenting its certificate with it is trusted as admin; list, remove", async () => {
    const out = await h.ok(["trust", "add", "laptop", "--expiry", "1h"]);
    expect(out).toMatch(/^Client laptop certificate add token \(single use, valid until \S+\); it is shown only this once:\n/);
    expect(out).toContain("lxc remote add <remote> <token>");
    const token = lastLine(out);
    const port = new URL(h.url).port;
    expect(decodeTrustToken(token)).toMatchObject({ client_name: "laptop", fingerprint: h.fingerprint, addresses: [`127.0.0.1:${port}`] });

    expect((await tlsRequest(h.url, h.fingerprint, laptop, "GET", "/1.0")).body.metadata.auth).toBe("untrusted");
    const registered = await tlsRequest(h.url, h.fingerprint, laptop, "POST", "/1.0/certificates", { password: token, certificate: "", name: "", type: "" });
    expect(registered.status, registered.body.error).toBe(201);
    const info = await tlsRequest(h.url, h.fingerprint, laptop, "GET", "/1.0");
    expect(info.body.metadata).toMatchObject({ auth: "trusted", auth_user_method: "tls", auth_role: "admin" });
    expect((await tlsRequest(h.url, h.fingerprint, laptop, "POST", "/1.0/cluster/members", { server_name: "n1" })).status).toBe(201);
    // Without a certificate, over the same HTTPS listener: untrusted.
    expect((await tlsRequest(h.url, h.fingerprint, null, "GET", "/1.0/cluster/members")).status).toBe(401);

    const list = await h.ok(["trust", "list"]);
    expect(list).toMatch(new RegExp(`│ laptop\\s*│ client\\s*│ ${laptop.fingerprint.slice(0, 12)}\\s*│`));
    expect(await h.ok(["trust", "list-tokens"])).toMatch(new RegExp(`│ laptop\\s*│ used\\s*│.*${laptop.fingerprint.slice(0, 12)}`));

    expect(await h.ok(["trust", "remove", laptop.fingerprint.slice(0, 8)])).toContain(`Certificate laptop (${laptop.fingerprint.slice(0, 12)}) is no longer trusted`);
    expect((await tlsRequest(h.url, h.fingerprint, laptop, "GET", "/1.0/cluster/members")).status).toBe(401);
    expect((await h.ok(["trust", "list", "--format", "json"])).trim()).toBe("[]");
  });

  it("a used or revoked token is refused with the reason; bad input is an error naming it", async () => {
    const token = lastLine(await h.ok(["trust", "add", "once"]));
    const other = await makeClientCertificate("other", { from: "2020-01-01", to: "2040-01-01" });
    const third = await makeClientCertificate("third", { from: "2020-01-01", to: "2040-01-01" });
    expect((await tlsRequest(h.url, h.fingerprint, other, "POST", "/1.0/certificates", { password: token })).status).toBe(201);
    const again = await tlsRequest(h.url, h.fingerprint, third, "POST", "/1.0/certificates", { password: token });
    expect(again.status).toBe(403);
    expect(again.body.error).toContain("already used");

    await h.ok(["trust", "add", "later"]);
    const tokens = JSON.parse(await h.ok(["trust", "list-tokens", "--format", "json"]));
    const later = tokens.find((t: any) => t.name === "later" && t.status === "valid");
    expect(await h.ok(["trust", "revoke-token", later.id])).toContain(`Trust token ${later.id} revoked`);

    const bad = await h.run(["trust", "add", "x", "--expiry", "forever"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("expiry");
    const missing = await h.run(["trust", "remove", "0000"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Certificate "0000" not found');
  });
});
