/**
 * Trusted client certificates and the trust tokens that add them, as LXD's trust store
 * (`lxc config trust add|list|remove`, `lxc remote add NAME TOKEN`). A request over HTTPS that
 * presents a trusted certificate acts as admin (src/api/auth.ts). A trust token is single use; the
 * store keeps its secret's hash and keeps the row after use, expiry or revocation so that a second
 * try is told which. See src/domain/trustToken.ts for the token's format.
 */
import { createHash, randomBytes, X509Certificate } from "node:crypto";
import type { ServiceEndpoints } from "../domain/endpoints.ts";
import { badRequest, BerthError, conflict, forbidden, notFound } from "../domain/errors.ts";
import { parseDuration } from "../domain/duration.ts";
import {
  decodeTrustToken, encodeTrustToken, TRUST_SECRET_RE, trustTokenStatus, type CertificateInfo, type CertificateType,
  type TrustTokenInfo, type TrustTokenStatus,
} from "../domain/trustToken.ts";
import type { EventBus } from "../events/bus.ts";
import { DuplicateKey, type Store } from "../store/store.ts";
import { hashToken } from "./tokenService.ts";

export const DEFAULT_TRUST_EXPIRY = "3h";
const MAX_TRUST_EXPIRY_MS = 365 * 86_400_000;

/** A trust token as the API lists it: never its secret, with its status now. */
export interface TrustTokenView extends TrustTokenInfo {
  status: TrustTokenStatus;
}

/** A new trust token: its record, its secret and the whole token string (both shown once), and what the token carries. */
export interface IssuedTrustToken {
  info: TrustTokenView;
  secret: string;
  token: string;
  /** host:port of the HTTPS listeners. */
  addresses: string[];
  /** The service certificate's. */
  fingerprint: string;
}

/** SHA-256 of a DER certificate, lowercase hex (LXD's fingerprint). */
export function derFingerprint(der: Uint8Array): string {
  return createHash("sha256").update(der).digest("hex");
}

export class TrustService {
  /** fingerprint → certificate: read on every HTTPS request that presents one; reloaded after each write. */
  private cache: Map<string, CertificateInfo> | null = null;
  /** Counts writes: a load that overlapped one is used once but not kept. */
  private writes = 0;

  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
    private readonly now: () => number,
    /** SHA-256 of the service certificate: what the token tells a client to expect. */
    private readonly fingerprint: string,
    private readonly endpoints: () => ServiceEndpoints,
  ) {}

  /** host:port of every HTTPS listener: where a trust token sends the client (it adds https://). */
  httpsAddresses(): string[] {
    return this.endpoints().urls.filter((url) => url.startsWith("https://")).map((url) => url.slice("https://".length));
  }

  /** A new single-use trust token for a client to be called `name`. */
  async issue(name: string, type: string | undefined, expiry: string | undefined): Promise<IssuedTrustToken> {
    const certType = checkType(type);
    const ms = parseDuration(expiry ?? DEFAULT_TRUST_EXPIRY);
    if (ms === null || ms < 1000 || ms > MAX_TRUST_EXPIRY_MS) {
      throw badRequest(`expiry must be a duration from 1s to 365d such as 30m, 3h, 1h30m or 7d, got ${JSON.stringify(expiry)}`);
    }
    if (name.trim() === "" || name.length > 255) throw badRequest(`name: a client name of 1 to 255 characters is needed, got ${JSON.stringify(name)}`);
    const addresses = this.httpsAddresses();
    if (addresses.length === 0) {
      throw conflict("This service has no HTTPS listener to put in a trust token: serve on a non-loopback address, or on loopback with --tls (docs/tls.md)");
    }
    const secret = randomBytes(32).toString("base64url");
    const id = randomBytes(6).toString("hex");
    const now = this.now();
    await this.store.insertTrustToken({ id, hash: hashToken(secret), name, type: certType, expiresAt: now + ms }, now);
    const info = this.view((await this.store.getTrustToken(id))!);
    this.bus.lifecycle("certificate-token-created", `/1.0/trust-tokens/${id}`, { name });
    const token = encodeTrustToken({ client_name: name, fingerprint: this.fingerprint, addresses, secret, expires_at: info.expires_at });
    return { info, secret, token, addresses, fingerprint: this.fingerprint };
  }

  async listTokens(): Promise<TrustTokenView[]> {
    return (await this.store.listTrustTokens()).map((t) => this.view(t));
  }

  async findToken(id: string): Promise<TrustTokenView | undefined> {
    const token = await this.store.getTrustToken(id);
    return token && this.view(token);
  }

  /** What every token carries about this service: its certificate's fingerprint and its HTTPS host:port. */
  service(): { fingerprint: string; addresses: string[] } {
    return { fingerprint: this.fingerprint, addresses: this.httpsAddresses() };
  }

  async getToken(id: string): Promise<TrustTokenView> {
    const token = await this.store.getTrustToken(id);
    if (!token) throw notFound(`Trust token "${id}" not found`);
    return this.view(token);
  }

  /** Revokes an unused token (again: nothing changes); a used one is refused, naming the certificate to remove instead. */
  async revokeToken(id: string): Promise<void> {
    const token = await this.store.getTrustToken(id);
    if (!token) throw notFound(`Trust token "${id}" not found`);
    if (token.used_at !== null) {
      throw conflict(`Trust token "${id}" was already used at ${token.used_at}; to stop trusting the client it added, remove its certificate: berth trust remove ${token.fingerprint}`);
    }
    if (await this.store.revokeTrustToken(id, this.now())) this.bus.lifecycle("certificate-token-revoked", `/1.0/trust-tokens/${id}`, { name: token.name });
  }

  /**
   * Trusts `peer` (the DER of the client certificate presented on this TLS connection) in exchange
   * for a trust token (`password` as lxc sends it: the whole token, or its bare secret). 400 for
   * no certificate or a malformed token; 403 for a token this service did not issue, or a used,
   * revoked or expired one; 409 when the certificate is trusted already (the token stays unused).
   */
  async register(password: string, peer: Uint8Array | null): Promise<CertificateInfo> {
    const secret = secretOf(password);
    if (!peer) {
      throw badRequest("No client certificate provided: a trust token registers the certificate the client presents over HTTPS (lxc remote add NAME TOKEN does)");
    }
    const cert = parseCertificate(peer, "the client certificate", this.now());
    const token = await this.store.findTrustTokenByHash(hashToken(secret));
    if (!token) throw forbidden("No matching trust token: this service never issued it (was it made by another server, or mistyped?)");
    this.refuseUnusable(token);
    const now = this.now();
    try {
      await this.store.transaction(async (tx) => {
        await tx.insertCertificate({ fingerprint: cert.fingerprint, name: token.name, type: token.type, certificate: cert.pem }, now);
        // Conditional on the token still being usable at `now`: of two concurrent uses one wins.
        if (!(await tx.useTrustToken(token.id, cert.fingerprint, now))) throw new LostRace();
      });
    } catch (err) {
      if (err instanceof DuplicateKey) throw conflict(`Certificate already in trust store (fingerprint ${cert.fingerprint}); the trust token was not used`);
      if (!(err instanceof LostRace)) throw err;
      this.refuseUnusable((await this.store.getTrustToken(token.id))!);
      throw forbidden("This trust token can no longer be used"); // not reached: refuseUnusable says why
    }
    return this.added(cert.fingerprint, { token: token.id });
  }

  /** An admin adds a certificate directly (`lxc config trust add FILE`): base64 of its DER as LXD sends it, or PEM. */
  async add(name: string | undefined, type: string | undefined, certificate: string): Promise<CertificateInfo> {
    const certType = checkType(type);
    const cert = parseCertificate(decodeCertificateField(certificate), "certificate", this.now());
    const certName = name && name.trim() !== "" ? name : cert.commonName || cert.fingerprint.slice(0, 12);
    try {
      await this.store.insertCertificate({ fingerprint: cert.fingerprint, name: certName, type: certType, certificate: cert.pem }, this.now());
    } catch (err) {
      if (err instanceof DuplicateKey) throw conflict(`Certificate already in trust store (fingerprint ${cert.fingerprint})`);
      throw err;
    }
    return this.added(cert.fingerprint, {});
  }

  list(): Promise<CertificateInfo[]> {
    return this.store.listCertificates();
  }

  /** By fingerprint or a unique prefix of one (as LXD). */
  async get(fingerprint: string): Promise<CertificateInfo> {
    const wanted = fingerprint.toLowerCase().replace(/:/g, "");
    if (!/^[0-9a-f]{1,64}$/.test(wanted)) throw badRequest(`fingerprint: not a certificate fingerprint (hex digits), got ${JSON.stringify(fingerprint)}`);
    const exact = await this.store.getCertificate(wanted);
    if (exact) return exact;
    const matches = (await this.store.listCertificates()).filter((c) => c.fingerprint.startsWith(wanted));
    if (matches.length === 0) throw notFound(`Certificate "${fingerprint}" not found`);
    if (matches.length > 1) throw badRequest(`fingerprint: more than one certificate starts with "${fingerprint}"; give more digits`);
    return matches[0];
  }

  async remove(fingerprint: string): Promise<CertificateInfo> {
    const cert = await this.get(fingerprint);
    await this.store.deleteCertificate(cert.fingerprint);
    this.forget();
    this.bus.lifecycle("certificate-deleted", `/1.0/certificates/${cert.fingerprint}`, { name: cert.name });
    return cert;
  }

  /** The trusted certificate with this fingerprint, or undefined: how a TLS client is authenticated. */
  async trusted(fingerprint: string): Promise<CertificateInfo | undefined> {
    if (this.cache) return this.cache.get(fingerprint);
    const before = this.writes;
    const loaded = new Map((await this.store.listCertificates()).map((c) => [c.fingerprint, c]));
    if (this.writes === before) this.cache = loaded;
    return loaded.get(fingerprint);
  }

  /** Drops the cached certificates: the next lookup reads the store (another replica changed them). */
  forgetCached(): void {
    this.forget();
  }

  private forget(): void {
    this.writes++;
    this.cache = null;
  }

  private async added(fingerprint: string, context: Record<string, unknown>): Promise<CertificateInfo> {
    this.forget();
    const cert = (await this.store.getCertificate(fingerprint))!;
    this.bus.lifecycle("certificate-created", `/1.0/certificates/${fingerprint}`, { name: cert.name, ...context });
    return cert;
  }

  /** 403 naming why the token cannot be used (revoked, used, expired); returns when it can. */
  private refuseUnusable(token: TrustTokenInfo): void {
    const again = `ask an administrator for a new one (berth trust add ${token.name})`;
    switch (trustTokenStatus(token, this.now())) {
      case "revoked":
        throw forbidden(`This trust token was revoked at ${token.revoked_at}; ${again}`);
      case "used":
        throw forbidden(`This trust token was already used at ${token.used_at}: a trust token works once; ${again}`);
      case "expired":
        throw forbidden(`This trust token expired at ${token.expires_at}; ${again}`);
      case "valid":
        return;
    }
  }

  private view(token: TrustTokenInfo): TrustTokenView {
    return { ...token, status: trustTokenStatus(token, this.now()) };
  }
}

function checkType(type: string | undefined): CertificateType {
  if (type === undefined || type === "" || type === "client") return "client";
  throw badRequest(`type: Berth trusts client certificates only (type "client"), got ${JSON.stringify(type)}`);
}

/** The secret in what a client sends as `password`: a whole trust token (lxc sends that), or the bare secret. */
function secretOf(password: string): string {
  if (password === "") throw forbidden("A trust token is needed: send it as password (lxc remote add NAME TOKEN does); make one with berth trust add NAME");
  if (TRUST_SECRET_RE.test(password)) return password;
  try {
    return decodeTrustToken(password).secret;
  } catch (err) {
    throw badRequest(
      `password: not a trust token (${(err as Error).message}); Berth has no trust password (core.trust_password): make a token with berth trust add NAME`,
    );
  }
}

/** The certificate field of POST /1.0/certificates: base64 of the DER (what lxc sends), or PEM. */
function decodeCertificateField(text: string): Uint8Array {
  const trimmed = text.trim();
  if (trimmed.startsWith("-----BEGIN")) {
    try {
      return new X509Certificate(trimmed).raw;
    } catch (err) {
      throw badRequest(`certificate: not a PEM certificate (${(err as Error).message})`);
    }
  }
  if (!/^[A-Za-z0-9+/\s]+={0,2}$/.test(trimmed)) throw badRequest("certificate: expected base64 of the certificate's DER (as lxc sends it) or a PEM certificate");
  return Buffer.from(trimmed, "base64");
}

function parseCertificate(der: Uint8Array, field: string, now: number): { fingerprint: string; pem: string; commonName: string } {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
  } catch (err) {
    throw badRequest(`${field}: invalid certificate material (${(err as Error).message})`);
  }
  if (Date.parse(x509.validTo) <= now) throw badRequest(`${field}: the certificate expired at ${new Date(x509.validTo).toISOString()}`);
  if (Date.parse(x509.validFrom) > now) throw badRequest(`${field}: the certificate is not valid before ${new Date(x509.validFrom).toISOString()}`);
  const commonName = /(?:^|\n)CN=([^\n]*)/.exec(x509.subject)?.[1] ?? "";
  return { fingerprint: derFingerprint(x509.raw), pem: x509.toString(), commonName };
}

/** The trust token stopped being usable between the first look and the transaction (a concurrent use, a revocation). */
class LostRace extends BerthError {
  constructor() {
    super(403, "lost race");
  }
}
