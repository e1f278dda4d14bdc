/** Join tokens over the API: made with a member, traded once for an agent credential, expiring, revocable. */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { decodeJoinToken } from "../../src/domain/joinToken.ts";
import { makeHarness, type Harness } from "../support/harness.ts";

const URLS = ["https://192.0.2.10:8443", "https://[2001:db8::10]:8443"];
let h: Harness;
beforeEach(async () => {
  h = await makeHarness({ endpoints: () => ({ urls: URLS, addresses: ["192.0.2.10:8443", "[2001:db8::10]:8443"] }) });
});
afterEach(async () => { await h.close(); });

/** POST /1.0/cluster/members with join: the member, its token text and the token's id. */
async function addJoining(name: string, extra: Record<string, unknown> = {}) {
  const r = await h.request("POST", "/1.0/cluster/members", { server_name: name, join: true, ...extra });
  expect(r.status, r.body.error).toBe(201);
  return { member: r.body.metadata, token: r.body.metadata.join_token as string, id: r.body.metadata.join_token_id as string };
}

const join = (secret: unknown, extra: Record<string, unknown> = {}) => h.request("POST", "/1.0/cluster/join", { secret, ...extra }, null);

describe("join tokens", () => {
  it("a member added with join is Pending and gets one token carrying the service's URLs, its certificate fingerprint and a secret stored only hashed", async () => {
    const { member, token, id } = await addJoining("node4", { failure_domain: "rack9" });
    expect(member).toMatchObject({ server_name: "node4", status: "Pending", failure_domain: "rack9" });
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    const decoded = decodeJoinToken(token);
    const info = await h.request("GET", "/1.0");
    expect(decoded).toEqual({
      server_name: "node4", addresses: URLS, fingerprint: info.body.metadata.environment.certificate_fingerprint, secret: expect.any(String),
    });
    const rows = JSON.stringify(await h.berth.services.store.dumpTable("join_tokens"));
    expect(rows).not.toContain(decoded.secret);
    expect(rows).toContain(id);
    // Without join, a member is a record as before: no token.
    const plain = await h.request("POST", "/1.0/cluster/members", { server_name: "rec1" });
    expect(plain.status).toBe(201);
    expect(plain.body.metadata.join_token).toBeUndefined();
  });

  it("trades its secret once, without a bearer token, for an agent credential bound to the member", async () => {
    await h.addMember("other");
    const { token } = await addJoining("node4");
    const { secret } = decodeJoinToken(token);
    const r = await join(secret, { server_name: "node4" });
    expect(r.status, r.body.error).toBe(200);
    expect(r.body.metadata).toMatchObject({ server_name: "node4", credential: expect.stringMatching(/^berth_/) });
    const credential = r.body.metadata.credential as string;

    // The credential: heartbeats as its member (which comes Online) and reads it ...
    expect((await h.request("POST", "/1.0/cluster/members/node4/heartbeat", {}, credential)).status).toBe(200);
    expect((await h.request("GET", "/1.0/cluster/members/node4", undefined, credential)).body.metadata.status).toBe("Online");
    expect((await h.request("GET", "/1.0/cluster/members/node4/state", undefined, credential)).status).toBe(200);
    // ... and nothing else: another member, the member list, instances, writes to itself.
    for (const [method, path, body] of [
      ["POST", "/1.0/cluster/members/other/heartbeat", {}],
      ["GET", "/1.0/cluster/members/other", undefined],
      ["GET", "/1.0/cluster/members", undefined],
      ["GET", "/1.0/instances", undefined],
      ["PATCH", "/1.0/cluster/members/node4", { description: "mine" }],
      ["POST", "/1.0/cluster/join-tokens", { server_name: "node4" }],
      ["GET", "/1.0/cluster/members/node4/resources", undefined],
    ] as const) {
      const denied = await h.request(method, path, body, credential);
      expect(denied.status, `${method} ${path}`).toBe(403);
      expect(denied.body.error).toContain('agent token for member "node4"');
    }
    const tokens = (await h.request("GET", "/1.0/tokens?recursion=1")).body.metadata;
    expect(tokens.find((t: any) => t.id === r.body.metadata.credential_id)).toMatchObject({ role: "agent", member: "node4" });

    // Single use: the second exchange is refused, saying so.
    const again = await join(secret);
    expect(again.status).toBe(401);
    expect(again.body.error).toMatch(/^This join token was already used at .*: a join token works once/);
    expect(again.body.error).toContain("berth cluster join-token create node4");
  });

  it("of concurrent exchanges of one secret exactly one gets a credential", async () => {
    const { secret } = decodeJoinToken((await addJoining("node4")).token);
    const answers = await Promise.all(Array.from({ length: 6 }, () => join(secret)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401, 401, 401, 401, 401]);
    expect((await h.request("GET", "/1.0/tokens?recursion=1")).body.metadata.filter((t: any) => t.member === "node4")).toHaveLength(1);
  });

  it("expires after its expiry (default 3h), on the service's clock", async () => {
    const short = decodeJoinToken((await addJoining("node4", { expiry: "1h" })).token).secret;
    const byDefault = decodeJoinToken((await addJoining("node5")).token).secret;
    const later = decodeJoinToken((await addJoining("node6")).token).secret;
    await h.clock.advance(3599);
    expect((await join(short)).status).toBe(200); // a second before its hour is up
    const late = decodeJoinToken((await h.request("POST", "/1.0/cluster/join-tokens", { server_name: "node4", expiry: "1h" })).body.metadata.join_token).secret;
    await h.clock.advance(3600);
    const expired = await join(late);
    expect(expired.status).toBe(401);
    expect(expired.body.error).toMatch(/^This join token expired at 2026-01-01T01:59:59\.000Z; ask an administrator for a new one/);
    await h.clock.advance(3 * 3600 - 7199 - 1); // 3h less a second after node5's token was made
    expect((await join(byDefault)).status).toBe(200);
    await h.clock.advance(1);
    expect((await join(later)).body.error).toMatch(/^This join token expired at 2026-01-01T03:00:00\.000Z/);
  });

  it("is revoked by DELETE /1.0/cluster/join-tokens/{id} or by removing its member, and says which", async () => {
    const a = await addJoining("node4");
    const b = await addJoining("node5");
    expect((await h.request("DELETE", `/1.0/cluster/join-tokens/${a.id}`)).status).toBe(200);
    const revoked = await join(decodeJoinToken(a.token).secret);
    expect(revoked.status).toBe(401);
    expect(revoked.body.error).toMatch(/^This join token was revoked at .* \(revoked by an administrator\)/);

    expect((await h.request("DELETE", "/1.0/cluster/members/node5")).status).toBe(200);
    const gone = await join(decodeJoinToken(b.token).secret);
    expect(gone.status).toBe(401);
    expect(gone.body.error).toMatch(/revoked at .* \(member removed\)/);
    // Re-adding a member of that name does not bring its old token back.
    await addJoining("node5");
    expect((await join(decodeJoinToken(b.token).secret)).status).toBe(401);

    expect((await h.request("DELETE", "/1.0/cluster/join-tokens/nope")).status).toBe(404);
  });

  it("a used token cannot be revoked: the answer names the agent token to revoke instead", async () => {
    const { token, id } = await addJoining("node4");
    const credentialId = (await join(decodeJoinToken(token).secret)).body.metadata.credential_id;
    const r = await h.request("DELETE", `/1.0/cluster/join-tokens/${id}`);
    expect(r.status).toBe(409);
    expect(r.body.error).toContain(`berth token revoke ${credentialId}`);
  });

  it("lists tokens with their status and without secrets; a new token for an existing member", async () => {
    const a = await addJoining("node4");
    const b = await addJoining("node5", { expiry: "1m" });
    const c = await addJoining("node6");
    await join(decodeJoinToken(a.token).secret);
    await h.request("DELETE", `/1.0/cluster/join-tokens/${c.id}`);
    await h.clock.advance(60);
    const fresh = await h.request("POST", "/1.0/cluster/join-tokens", { server_name: "node5", expiry: "2h" });
    expect(fresh.status).toBe(201);
    expect(fresh.body.metadata).toMatchObject({ server_name: "node5", status: "valid", expires_at: "2026-01-01T02:01:00.000Z" });

    const list = await h.request("GET", "/1.0/cluster/join-tokens?recursion=1");
    expect(list.body.metadata.map((t: any) => [t.server_name, t.status])).toEqual([
      ["node4", "used"], ["node5", "expired"], ["node6", "revoked"], ["node5", "valid"],
    ]);
    expect(JSON.stringify(list.body.metadata)).not.toContain(decodeJoinToken(b.token).secret);
    expect((await h.request("GET", "/1.0/cluster/join-tokens")).body.metadata).toContain(`/1.0/cluster/join-tokens/${b.id}`);
    expect((await h.request("GET", "/1.0/cluster/join-tokens?member=node5&recursion=1")).body.metadata).toHaveLength(2);
    expect((await h.request("GET", `/1.0/cluster/join-tokens/${a.id}`)).body.metadata.credential_id).toMatch(/^[0-9a-f]{12}$/);
    expect((await join(decodeJoinToken(fresh.body.metadata.join_token).secret)).status).toBe(200);
    expect((await h.request("POST", "/1.0/cluster/join-tokens", { server_name: "ghost" })).status).toBe(404);
  });

  it("refuses malformed input with 400 and an unknown secret with 401, writing nothing", async () => {
    const cases: [unknown, number, string][] = [
      [{ secret: "not a secret!" }, 400, "secret: not a join secret"],
      [{}, 400, "secret"],
      [{ secret: 42 }, 400, "secret"],
      [{ secret: "A".repeat(43), extra: 1 }, 400, "unknown field"],
      [{ secret: "A".repeat(43) }, 401, "Invalid join token: this service never issued it"],
    ];
    for (const [body, status, message] of cases) {
      const r = await h.request("POST", "/1.0/cluster/join", body, null);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.body.error).toContain(message);
    }
    const { token } = await addJoining("node4");
    const wrongName = await join(decodeJoinToken(token).secret, { server_name: "node9" });
    expect(wrongName.status).toBe(400);
    expect(wrongName.body.error).toContain('this join token is for member "node4", not "node9"');
    expect((await join(decodeJoinToken(token).secret)).status).toBe(200); // the refusal did not use it up

    for (const [body, message] of [
      [{ server_name: "n7", join: true, expiry: "soon" }, 'expiry must be a duration from 1s to 365d such as 30m, 3h, 1h30m or 7d, got "soon"'],
      [{ server_name: "n7", join: true, expiry: "400d" }, "expiry must be a duration"],
      [{ server_name: "n7", expiry: "1h" }, "expiry: only a join token expires"],
      [{ server_name: "n7", join: true, resources: { cpu: { total: 4 } } }, "resources: a member that joins with a join token reports its own resources"],
      [{ server_name: "n7", join: "yes" }, "join"],
    ] as const) {
      const r = await h.request("POST", "/1.0/cluster/members", body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error).toContain(message);
    }
    expect((await h.request("GET", "/1.0/cluster/members/n7")).status).toBe(404);
  });

  it("only an admin makes or revokes join tokens", async () => {
    const viewer = (await h.request("POST", "/1.0/tokens", { role: "viewer" })).body.metadata.token;
    const { id } = await addJoining("node4");
    expect((await h.request("POST", "/1.0/cluster/members", { server_name: "n8", join: true }, viewer)).status).toBe(403);
    expect((await h.request("POST", "/1.0/cluster/join-tokens", { server_name: "node4" }, viewer)).status).toBe(403);
    expect((await h.request("DELETE", `/1.0/cluster/join-tokens/${id}`, undefined, viewer)).status).toBe(403);
    expect((await h.request("GET", "/1.0/cluster/join-tokens", undefined, viewer)).status).toBe(200);
    expect((await h.request("GET", "/1.0/cluster/join-tokens", undefined, null)).status).toBe(401);
  });
});

describe("join tokens on a service with no listener", () => {
  it("are refused (409) before the member is written", async () => {
    const bare = await makeHarness();
    try {
      const r = await bare.request("POST", "/1.0/cluster/members", { server_name: "n1", join: true });
      expect(r.status).toBe(409);
      expect(r.body.error).toContain("no listening address to put in a join token");
      expect((await bare.request("GET", "/1.0/cluster/members/n1")).status).toBe(404);
    } finally {
      await bare.close();
    }
  });
});
