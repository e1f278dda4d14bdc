/** `berth serve`'s listeners (plain HTTP on loopback only, HTTPS elsewhere) and the CLI pinning the certificate. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/cli/serve.ts";
import { decodeJoinToken } from "../../src/domain/joinToken.ts";
import { certificateFingerprint } from "../../src/net/certificate.ts";
import { pinnedRequest, pinnedRequestText } from "../../src/net/pinned.ts";
import { seedCertificate } from "../support/certificate.ts";
import { ADMIN_TOKEN, startCliHarness, type CliHarness } from "./cliHarness.ts";

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** A real service on the given addresses, with the run's certificate unless `fresh`; closed by the caller. */
async function serveOn(listen: string | string[], extra: { tls?: boolean; tlsCertFile?: string; tlsKeyFile?: string } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "berth-tls-"));
  if (!extra.tlsCertFile) seedCertificate(dataDir);
  const server = await startServer({ listen, dataDir, localMember: false, adminToken: ADMIN_TOKEN, logger: pino({ level: "silent" }), ...extra });
  return {
    server,
    dataDir,
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function getServerInfo(server: RunningServer, url = server.url) {
  const r = await pinnedRequestText(url, url.startsWith("https:") ? server.fingerprint : null, { path: "/1.0", headers: auth });
  expect(r.status).toBe(200);
  return JSON.parse(r.text).metadata;
}

describe("berth serve listeners", () => {
  it("loopback (127.0.0.0/8, not only 127.0.0.1) is plain HTTP; --tls makes it HTTPS with the certificate GET /1.0 shows", async () => {
    const plain = await serveOn(["127.0.0.1:0", "127.0.0.2:0"]);
    try {
      expect(plain.server.listeners.map((l) => l.url)).toEqual([expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), expect.stringMatching(/^http:\/\/127\.0\.0\.2:\d+$/)]);
      const info = await getServerInfo(plain.server, plain.server.listeners[1].url);
      // The certificate exists from the first start, for join tokens and later HTTPS listeners.
      expect(info.environment.certificate_fingerprint).toBe(certificateFingerprint(readFileSync(join(plain.dataDir, "server.crt"))));
      expect(info.environment.addresses).toEqual(plain.server.listeners.map((l) => l.url.replace("http://", "")));
    } finally {
      await plain.close();
    }

    const tls = await serveOn("127.0.0.1:0", { tls: true });
    try {
      expect(tls.server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const info = await getServerInfo(tls.server);
      expect(info.environment.certificate).toBe(readFileSync(join(tls.dataDir, "server.crt"), "utf8"));
      expect(info.environment.certificate_fingerprint).toBe(certificateFingerprint(info.environment.certificate));
      expect(info.environment.certificate_fingerprint).toBe(tls.server.fingerprint);
      // Plain HTTP on the HTTPS port gets no answer.
      await expect(pinnedRequest(tls.server.url.replace("https:", "http:"), null, { path: "/1.0", headers: auth, timeoutMs: 5000 })).rejects.toThrow();
    } finally {
      await tls.close();
    }
  });

  it("a wildcard address is not loopback: HTTPS, and join tokens carry this machine's https:// addresses", async () => {
    const wild = await serveOn("0.0.0.0:0");
    try {
      const { port, tls, url } = wild.server.listeners[0];
      expect({ tls, url }).toEqual({ tls: true, url: `https://0.0.0.0:${port}` });
      // Reached here through loopback (the only traffic a test sends), over TLS, pinned.
      const info = await getServerInfo(wild.server, `https://127.0.0.1:${port}`);
      expect(info.environment.certificate_fingerprint).toBe(wild.server.fingerprint);
      const added = await pinnedRequestText(`https://127.0.0.1:${port}`, wild.server.fingerprint, {
        method: "POST", path: "/1.0/cluster/members", headers: auth, body: { server_name: "node4", join: true },
      });
      const token = decodeJoinToken(JSON.parse(added.text).metadata.join_token);
      expect(token.fingerprint).toBe(wild.server.fingerprint);
      expect(token.addresses.length).toBeGreaterThan(0);
      for (const address of token.addresses) expect(address).toMatch(new RegExp(`^https://.+:${port}$`));
      expect(token.addresses.some((a) => a.includes("0.0.0.0"))).toBe(false);
    } finally {
      await wild.close();
    }
  });

  it("join tokens of a loopback-only service carry its http:// URLs; of one with --tls, https://", async () => {
    for (const tls of [false, true]) {
      const s = await serveOn("127.0.0.1:0", { tls });
      try {
        const added = await pinnedRequestText(s.server.url, s.server.fingerprint, {
          method: "POST", path: "/1.0/cluster/members", headers: auth, body: { server_name: "node4", join: true },
        });
        expect(decodeJoinToken(JSON.parse(added.text).metadata.join_token).addresses).toEqual([s.server.url]);
      } finally {
        await s.close();
      }
    }
  });

  it("--tls-cert/--tls-key serve the given files, and none is generated", async () => {
    const keep = mkdtempSync(join(tmpdir(), "berth-given-"));
    seedCertificate(keep);
    const given = await serveOn("127.0.0.1:0", { tls: true, tlsCertFile: join(keep, "server.crt"), tlsKeyFile: join(keep, "server.key") });
    try {
      expect(given.server.fingerprint).toBe(certificateFingerprint(readFileSync(join(keep, "server.crt"))));
      expect((await getServerInfo(given.server)).environment.certificate_fingerprint).toBe(given.server.fingerprint);
      expect(() => readFileSync(join(given.dataDir, "server.crt"))).toThrow();
    } finally {
      await given.close();
      rmSync(keep, { recursive: true, force: true });
    }
  });
});

describe("the CLI over HTTPS", () => {
  let h: CliHarness;
  beforeAll(async () => { h = await startCliHarness({ tls: true }); });
  afterAll(async () => { await h.close(); });

  const envWith = (extra: Record<string, string>) => ({ BERTH_URL: h.url, BERTH_TOKEN: ADMIN_TOKEN, ...extra });

  it("talks to the service whose fingerprint is pinned (--fingerprint, BERTH_FINGERPRINT, or the data directory's server.crt)", async () => {
    expect(h.url).toMatch(/^https:/);
    const colons = h.fingerprint.toUpperCase().match(/../g)!.join(":");
    const runs = await Promise.all([
      h.run(["cluster", "list"]),
      h.run(["--fingerprint", colons, "cluster", "list"], { env: envWith({}) }),
      h.run(["cluster", "list"], { env: envWith({ BERTH_DATA: h.dataDir }) }),
    ]);
    for (const r of runs) expect(r, r.stderr).toMatchObject({ code: 0, stderr: "" });
  });

  it("refuses a certificate that does not match, naming both fingerprints, and sends nothing", async () => {
    const wrong = "0123456789abcdef".repeat(4);
    const r = await h.run(["--fingerprint", wrong, "cluster", "add", "never"], { env: envWith({}) });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `Error: Refusing to connect to ${h.url}: its certificate has fingerprint ${h.fingerprint}, but --fingerprint pins ${wrong}. ` +
        "Another server answers there, or the service's certificate was replaced (GET /1.0 shows environment.certificate_fingerprint).\n",
    );
    expect((await h.api("GET", "/1.0/cluster/members")).some((u: string) => u.endsWith("/never"))).toBe(false);
    const fromEnv = await h.run(["cluster", "list"], { env: envWith({ BERTH_FINGERPRINT: wrong }) });
    expect(fromEnv.stderr).toContain(`but BERTH_FINGERPRINT pins ${wrong}`);
  });

  it("without a pin, says how to give one; a malformed one is refused before connecting", async () => {
    const none = await h.run(["cluster", "list"], { env: envWith({}) });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^Error: Cannot verify the certificate of https:\/\/127\.0\.0\.1:\d+ \(\w*SELF_SIGNED\w*\): .*pin it with --fingerprint SHA256 or BERTH_FINGERPRINT/);
    const bad = await h.run(["--fingerprint", "abc", "cluster", "list"], { env: envWith({}) });
    expect(bad.stderr).toBe('Error: --fingerprint must be a SHA-256 certificate fingerprint (64 hex digits, colons allowed), got "abc"\n');
  });

  it("cluster add prints a join token; its agent trades it once over pinned HTTPS and heartbeats with the credential", async () => {
    const out = await h.ok(["cluster", "add", "node4", "--expiry", "1h", "--failure-domain", "rack2"]);
    expect(out).toMatch(/^Member node4 added \(Pending until its agent joins\)\.\nJoin token for node4 \(single use, valid until \S+\); it is shown only this once:\n[A-Za-z0-9_-]+\nGive it to the member's agent: berth agent --join <token>\n$/);
    const text = out.split("\n")[2];
    const token = decodeJoinToken(text);
    expect(token).toMatchObject({ server_name: "node4", addresses: [h.url], fingerprint: h.fingerprint });

    // What `berth agent --join` does: trust only the token's fingerprint, trade the secret, then heartbeat.
    const joined = await pinnedRequestText(token.addresses[0], token.fingerprint, { method: "POST", path: "/1.0/cluster/join", body: { secret: token.secret } });
    expect(joined.status).toBe(200);
    const { credential } = JSON.parse(joined.text).metadata;
    const beat = await pinnedRequestText(token.addresses[0], token.fingerprint, {
      method: "POST", path: "/1.0/cluster/members/node4/heartbeat", headers: { authorization: `Bearer ${credential}` }, body: {},
    });
    expect(beat.status).toBe(200);
    expect((await h.api("GET", "/1.0/cluster/members/node4")).status).toBe("Online");
    const again = await pinnedRequestText(token.addresses[0], token.fingerprint, { method: "POST", path: "/1.0/cluster/join", body: { secret: token.secret } });
    expect(again.status).toBe(401);
    expect(JSON.parse(again.text).error).toContain("already used");

    const decoded = JSON.parse(await h.ok(["cluster", "join-token", "decode", text, "--format", "json"]));
    expect(decoded).toEqual({ server_name: "node4", addresses: [h.url], fingerprint: h.fingerprint });
    expect(JSON.stringify(decoded)).not.toContain(token.secret);
  });

  it("with declared resources or --no-join, cluster add registers a record and prints no token", async () => {
    expect(await h.ok(["cluster", "add", "rec1", "--cpu", "4", "--memory", "8GiB"])).toBe("Member rec1 added (Pending: Waiting for the first heartbeat)\n");
    expect(await h.ok(["cluster", "add", "rec2", "--no-join"])).toMatch(/^Member rec2 added \(Pending/);
    const json = JSON.parse(await h.ok(["cluster", "add", "node7", "--format", "json"]));
    expect(json).toMatchObject({ server_name: "node7", status: "Pending", join_token: expect.any(String) });
    const [withExpiry, badExpiry] = await Promise.all([
      h.run(["cluster", "add", "rec3", "--cpu", "4", "--expiry", "1h"]),
      h.run(["cluster", "add", "rec4", "--expiry", "soon"]),
    ]);
    expect(withExpiry.stderr).toBe("Error: --expiry is for a join token, and a member with declared resources (--cpu, --memory, --disk, --gpus) gets none\n");
    expect(badExpiry.stderr).toContain('expiry must be a duration from 1s to 365d such as 30m, 3h, 1h30m or 7d, got "soon"');
    const names = (await h.api("GET", "/1.0/cluster/members")) as string[];
    expect(names.filter((u) => /\/rec[34]$/.test(u))).toEqual([]);
  });

  it("join-token list, create and revoke; a revoked token is refused with the reason", async () => {
    await h.ok(["cluster", "add", "node8"]);
    const created = await h.ok(["cluster", "join-token", "create", "node8", "--expiry", "30m"]);
    const token = decodeJoinToken(created.split("\n")[1]);
    const list = JSON.parse(await h.ok(["cluster", "join-token", "list", "--member", "node8", "--format", "json"]));
    expect(list.map((t: { status: string }) => t.status)).toEqual(["valid", "valid"]);
    const table = await h.ok(["cluster", "join-tokens", "ls"]);
    expect(table).toMatch(/ID.*MEMBER.*STATUS.*CREATED.*EXPIRES/);
    expect(table).toMatch(/node4\s*│\s*used/);

    expect(await h.ok(["cluster", "join-token", "revoke", list[1].id])).toBe(`Join token ${list[1].id} revoked\n`);
    const refused = await pinnedRequestText(token.addresses[0], token.fingerprint, { method: "POST", path: "/1.0/cluster/join", body: { secret: token.secret } });
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.text).error).toMatch(/^This join token was revoked at .* \(revoked by an administrator\); ask an administrator for a new one \(berth cluster join-token create node8\)$/);

    const bad = await h.run(["cluster", "join-token", "decode", "not*a*token"]);
    expect(bad).toMatchObject({ code: 1, stderr: 'Error: The join token contains "*" at position 4, which is not base64url: pass the whole token exactly as `berth cluster add` printed it\n' });
  });
});
