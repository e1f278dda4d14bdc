/**
 * Trust tokens and trusted client certificates, as LXD's (`lxc config trust add`, `lxc remote add
 * NAME TOKEN`). A trust token is LXD's "certificate add token": standard base64 of the JSON
 * {client_name, fingerprint, addresses, secret, expires_at}, where `addresses` are host:port of the
 * service's HTTPS listeners (the client puts https:// in front) and `fingerprint` is the SHA-256 of
 * the service certificate, which the client checks before sending the secret. The client then
 * sends the whole token as `password` in POST /1.0/certificates, over TLS with its own
 * certificate; the service trusts that certificate from then on. The service keeps only the
 * secret's hash.
 */
import { BerthError } from "./errors.ts";
import { normalizeFingerprint } from "./fingerprint.ts";

export interface TrustToken {
  client_name: string;
  fingerprint: string;
  /** host:port of the service's HTTPS listeners, without a scheme (LXD's form). */
  addresses: string[];
  secret: string;
  /** RFC 3339; LXD 5.0 reads it when present. */
  expires_at: string;
}

/** What a trust secret looks like (the service makes 32 random bytes, base64url). */
export const TRUST_SECRET_RE = /^[A-Za-z0-9_-]{16,256}$/;
const MAX_TOKEN_CHARS = 16 * 1024;

/** The certificate types LXD knows; Berth trusts `client` certificates (as admin). */
export const CERTIFICATE_TYPES = ["client"] as const;
export type CertificateType = (typeof CERTIFICATE_TYPES)[number];

export function encodeTrustToken(token: TrustToken): string {
  const { client_name, fingerprint, addresses, secret, expires_at } = token;
  return Buffer.from(JSON.stringify({ client_name, fingerprint, addresses, secret, expires_at }), "utf8").toString("base64");
}

/** A trust token that cannot be read (a 400 where the API reports it). */
export class InvalidTrustToken extends BerthError {
  constructor(message: string) {
    super(400, message);
    this.name = "InvalidTrustToken";
  }
}

/**
 * Reads a trust token as pasted (whitespace dropped). Throws InvalidTrustToken naming what is
 * wrong. Unknown fields are ignored, as LXD's client does.
 */
export function decodeTrustToken(text: string): TrustToken {
  const compact = String(text).replace(/\s+/g, "");
  if (compact === "") throw new InvalidTrustToken("The trust token is empty");
  if (compact.length > MAX_TOKEN_CHARS) throw new InvalidTrustToken(`The trust token is ${compact.length} characters long, more than one can be (${MAX_TOKEN_CHARS})`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) throw new InvalidTrustToken("The trust token is not base64");
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(compact, "base64").toString("utf8"));
  } catch {
    throw new InvalidTrustToken("The trust token does not decode to a certificate add token (is it cut short?)");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new InvalidTrustToken("The trust token is not a JSON object");
  const t = parsed as Record<string, unknown>;
  if (typeof t.client_name !== "string" || t.client_name === "") throw new InvalidTrustToken("The trust token has no client_name");
  if (!Array.isArray(t.addresses) || t.addresses.length === 0 || !t.addresses.every((a) => typeof a === "string")) {
    throw new InvalidTrustToken("The trust token has no server addresses");
  }
  const fingerprint = typeof t.fingerprint === "string" ? normalizeFingerprint(t.fingerprint) : null;
  if (!fingerprint) throw new InvalidTrustToken("The trust token's fingerprint is not a SHA-256 certificate fingerprint");
  if (typeof t.secret !== "string" || !TRUST_SECRET_RE.test(t.secret)) throw new InvalidTrustToken("The trust token's secret is missing or malformed");
  return {
    client_name: t.client_name, fingerprint, addresses: t.addresses as string[], secret: t.secret,
    expires_at: typeof t.expires_at === "string" ? t.expires_at : "",
  };
}

/** A pending or past trust token as the service lists it (never its secret). */
export interface TrustTokenInfo {
  id: string;
  /** The name the registered certificate gets. */
  name: string;
  type: CertificateType;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  /** The certificate it registered, once used. */
  fingerprint: string | null;
  revoked_at: string | null;
}

export type TrustTokenStatus = "valid" | "used" | "expired" | "revoked";

export function trustTokenStatus(token: TrustTokenInfo, now: number): TrustTokenStatus {
  if (token.revoked_at !== null) return "revoked";
  if (token.used_at !== null) return "used";
  return Date.parse(token.expires_at) <= now ? "expired" : "valid";
}

/** A trusted certificate, in LXD's api.Certificate shape plus when it was added. */
export interface CertificateInfo {
  fingerprint: string;
  name: string;
  type: CertificateType;
  /** PEM. */
  certificate: string;
  /** Berth's trusted certificates are not restricted to projects: they act as admin. */
  restricted: false;
  projects: string[];
  created_at: string;
}
