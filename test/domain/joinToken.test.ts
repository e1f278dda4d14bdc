import { describe, expect, it } from "vitest";
import { isLoopbackHost } from "../../src/domain/addresses.ts";
import { parseDuration } from "../../src/domain/duration.ts";
import { normalizeFingerprint } from "../../src/domain/fingerprint.ts";
import { decodeJoinToken, encodeJoinToken, InvalidJoinToken, type JoinToken } from "../../src/domain/joinToken.ts";

const FP = "ab".repeat(32);
const token: JoinToken = { server_name: "node4", addresses: ["https://10.0.0.5:8443", "https://[fd00::5]:8443"], fingerprint: FP, secret: "s".repeat(43) };
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("join tokens", () => {
  it("round-trip through one base64url string, whitespace from a wrapped line ignored", () => {
    const text = encodeJoinToken(token);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeJoinToken(text)).toEqual(token);
    expect(decodeJoinToken(`  ${text.slice(0, 20)}\n${text.slice(20)}  \n`)).toEqual(token);
    // Fields a later service may add are ignored; a fingerprint with colons is made canonical.
    const colons = FP.toUpperCase().match(/../g)!.join(":");
    expect(decodeJoinToken(b64({ ...token, fingerprint: colons, expires_at: "x" }))).toEqual(token);
  });

  it.each([
    ["", "The join token is empty"],
    ["abc%def", 'contains "%" at position 4, which is not base64url'],
    ["bm90IGpzb24", "does not decode to a Berth join token (is it cut short"],
    [b64([1, 2]), "not a JSON object"],
    [b64({ ...token, server_name: "no/slash" }), 'server_name "no/slash" is not a member name'],
    [b64({ ...token, addresses: [] }), "addresses must be a list of 1 to 64 service URLs"],
    [b64({ ...token, addresses: ["ftp://x"] }), 'address 1 "ftp://x" is not an https:// URL'],
    [b64({ ...token, addresses: ["https://ok:1", "not a url"] }), 'address 2 "not a url" is not a URL'],
    [b64({ ...token, addresses: ["http://10.0.0.5:8443"] }), "plain http:// to a non-loopback host"],
    [b64({ ...token, fingerprint: "abc" }), 'fingerprint "abc" is not a SHA-256 certificate fingerprint'],
    [b64({ ...token, secret: undefined }), "secret is missing or malformed"],
  ])("refuses %j: %s", (text, message) => {
    expect(() => decodeJoinToken(text)).toThrow(InvalidJoinToken);
    expect(() => decodeJoinToken(text)).toThrow(message);
  });

  it("accept plain http on loopback (a service that listens only there)", () => {
    expect(decodeJoinToken(b64({ ...token, addresses: ["http://127.0.0.1:8443/"] })).addresses).toEqual(["http://127.0.0.1:8443"]);
  });
});

describe("fingerprints, durations, loopback", () => {
  it("normalizes fingerprints", () => {
    expect(normalizeFingerprint(FP.toUpperCase().match(/../g)!.join(":"))).toBe(FP);
    expect(normalizeFingerprint(` sha256:${FP} `)).toBe(FP);
    expect(normalizeFingerprint(FP.slice(2))).toBeNull();
    expect(normalizeFingerprint("zz".repeat(32))).toBeNull();
  });

  it.each([["90s", 90_000], ["30m", 1_800_000], ["3h", 10_800_000], ["1h30m", 5_400_000], ["2d", 172_800_000], ["1H", 3_600_000]])(
    "parses duration %s", (text, ms) => expect(parseDuration(text)).toBe(ms),
  );
  it.each(["", "3", "h", "1.5h", "-1h", "1y", "1h 30m"])("refuses duration %j", (text) => expect(parseDuration(text)).toBeNull());

  it("loopback is localhost, 127.0.0.0/8 and ::1; wildcards and other addresses are not", () => {
    for (const host of ["localhost", "127.0.0.1", "127.0.0.2", "127.255.255.254", "::1", "[::1]", "::ffff:127.0.0.1"]) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ["0.0.0.0", "::", "", "10.0.0.1", "128.0.0.1", "127.0.0.256", "example.com", "localhost.example.com"]) expect(isLoopbackHost(host), host).toBe(false);
  });
});
