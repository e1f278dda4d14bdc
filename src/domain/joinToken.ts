/**
 * Join tokens: the one string `berth cluster add NAME` prints and `berth agent --join TOKEN` reads.
 * It is base64url of the JSON {server_name, addresses, fingerprint, secret}: the member it joins
 * as, the service's URLs (https first), the SHA-256 fingerprint of the service's certificate (the
 * only certificate the agent trusts), and the single-use secret it trades for its credential at
 * POST /1.0/cluster/join. The service keeps only the secret's hash.
 */
import { isLoopbackHost } from "./addresses.ts";
import { BerthError } from "./errors.ts";
import { normalizeFingerprint } from "./fingerprint.ts";
import { isValidName } from "./names.ts";

export interface JoinToken {
  server_name: string;
  /** The service's URLs, to try in order: https:// ones, or http:// on loopback for a service that listens only there. */
  addresses: string[];
  /** SHA-256 of the service certificate's DER, 64 lowercase hex digits. */
  fingerprint: string;
  secret: string;
}

/** What a join secret looks like (the service makes 32 random bytes, base64url). */
export const JOIN_SECRET_RE = /^[A-Za-z0-9_-]{16,256}$/;
const MAX_TOKEN_CHARS = 16 * 1024;
const MAX_ADDRESSES = 64;

/** A join token that cannot be read: says what is wrong with it (HTTP 400 where an API reports it). */
export class InvalidJoinToken extends BerthError {
  constructor(message: string) {
    super(400, message);
    this.name = "InvalidJoinToken";
  }
}

export function encodeJoinToken(token: JoinToken): string {
  const { server_name, addresses, fingerprint, secret } = token;
  return Buffer.from(JSON.stringify({ server_name, addresses, fingerprint, secret }), "utf8").toString("base64url");
}

/**
 * Reads and checks a join token as pasted by a person (surrounding and embedded whitespace from a
 * wrapped terminal line is dropped). Throws InvalidJoinToken naming what is wrong. Fields it does
 * not know are ignored, so a later service may add some.
 */
export function decodeJoinToken(text: string): JoinToken {
  const compact = String(text).replace(/\s+/g, "");
  const hint = "pass the whole token exactly as `berth cluster add` printed it";
  if (compact === "") throw new InvalidJoinToken(`The join token is empty: ${hint}`);
  if (compact.length > MAX_TOKEN_CHARS) throw new InvalidJoinToken(`The join token is ${compact.length} characters long, more than a join token can be (${MAX_TOKEN_CHARS}): ${hint}`);
  const bad = /[^A-Za-z0-9_-]/.exec(compact.replace(/=+$/, ""));
  if (bad) {
    throw new InvalidJoinToken(`The join token contains ${JSON.stringify(bad[0])} at position ${bad.index + 1}, which is not base64url: ${hint}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(compact, "base64url").toString("utf8"));
  } catch {
    throw new InvalidJoinToken(`The join token does not decode to a Berth join token (is it cut short, or from another tool?): ${hint}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new InvalidJoinToken(`The join token does not decode to a Berth join token (not a JSON object): ${hint}`);
  }
  const t = parsed as Record<string, unknown>;

  if (typeof t.server_name !== "string" || !isValidName(t.server_name)) {
    throw new InvalidJoinToken(`The join token's server_name ${describe(t.server_name)} is not a member name`);
  }
  if (!Array.isArray(t.addresses) || t.addresses.length === 0 || t.addresses.length > MAX_ADDRESSES) {
    throw new InvalidJoinToken(`The join token's addresses must be a list of 1 to ${MAX_ADDRESSES} service URLs, got ${describe(t.addresses)}`);
  }
  const addresses = t.addresses.map((address, i) => checkAddress(address, i));
  const fingerprint = typeof t.fingerprint === "string" ? normalizeFingerprint(t.fingerprint) : null;
  if (!fingerprint) {
    throw new InvalidJoinToken(`The join token's fingerprint ${describe(t.fingerprint)} is not a SHA-256 certificate fingerprint (64 hex digits)`);
  }
  if (typeof t.secret !== "string" || !JOIN_SECRET_RE.test(t.secret)) {
    throw new InvalidJoinToken(`The join token's secret is missing or malformed (16-256 base64url characters expected)`);
  }
  return { server_name: t.server_name, addresses, fingerprint, secret: t.secret };
}

function checkAddress(address: unknown, i: number): string {
  const where = `The join token's address ${i + 1} ${describe(address)}`;
  if (typeof address !== "string") throw new InvalidJoinToken(`${where} is not a URL`);
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new InvalidJoinToken(`${where} is not a URL`);
  }
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    throw new InvalidJoinToken(`${where} is plain http:// to a non-loopback host; a Berth service serves HTTPS there`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new InvalidJoinToken(`${where} is not an https:// URL`);
  return address.replace(/\/+$/, "");
}

function describe(value: unknown): string {
  if (value === undefined) return "(missing)";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** A join token as the service lists it (never its secret). */
export interface JoinTokenInfo {
  id: string;
  /** The member it joins as. */
  server_name: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  /** The agent token it was traded for, once used. */
  credential_id: string | null;
  revoked_at: string | null;
  /** Why it was revoked ("revoked by an administrator", "member removed"); "" when it was not. */
  revoked_reason: string;
}

export type JoinTokenStatus = "valid" | "used" | "expired" | "revoked";

/** What a join token is at `now`: revoked and used are final; an unused one expires at expires_at. */
export function joinTokenStatus(token: JoinTokenInfo, now: number): JoinTokenStatus {
  if (token.revoked_at !== null) return "revoked";
  if (token.used_at !== null) return "used";
  return Date.parse(token.expires_at) <= now ? "expired" : "valid";
}
