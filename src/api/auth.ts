/**
 * Authentication and role checks: bearer tokens (admin: all, viewer: reads, agent: its own member),
 * the local unix socket (admin), and over HTTPS a trusted client certificate (admin, as LXD).
 */
import type { MiddlewareHandler } from "hono";
import type { TLSSocket } from "node:tls";
import { badRequest, forbidden, unauthorized } from "../domain/errors.ts";
import type { CertificateInfo } from "../domain/trustToken.ts";
import type { TokenInfo } from "../domain/types.ts";
import type { TokenService } from "../cluster/tokenService.ts";
import { derFingerprint, type TrustService } from "../cluster/trustService.ts";

/**
 * The adapter's per-request bindings. The unix-socket listener sets LOCAL_SOCKET on them: whoever
 * can open the socket is admin, as with LXD's local socket (the socket's file mode is the access
 * control). Nothing a TCP client sends can set it.
 */
export const LOCAL_SOCKET = "berthLocalSocket";

/**
 * Set by the HTTPS listeners (tlsPeerFetch): the request came over TLS, with the client
 * certificate it presented (its DER), or null for none. Nothing a client sends can set it.
 */
export const TLS_PEER = "berthTlsPeer";
export interface TlsPeer {
  certificate: Uint8Array | null;
  /** SHA-256 of its DER, lowercase hex; null with no certificate. */
  fingerprint: string | null;
}

export type AuthEnv = {
  /**
   * `token`: who the request acts as. Unset only on the routes an untrusted client may use
   * (UNTRUSTED_ROUTES, PUBLIC_ROUTES). `certificate`: the trusted client certificate it came with.
   */
  Variables: { token: TokenInfo; certificate?: CertificateInfo };
  Bindings: { [LOCAL_SOCKET]?: boolean; [TLS_PEER]?: TlsPeer };
};

/** Who a request over the unix socket acts as. */
export const LOCAL_SOCKET_USER: TokenInfo = {
  id: "unix-socket", role: "admin", member: null, description: "Local unix socket", created_at: "", last_used_at: null,
};

/** Wraps the app's fetch for the unix-socket listener: marks each request as local (the env object is the adapter's own). */
export function localSocketFetch<E>(fetch: (request: Request, env: E) => unknown): (request: Request, env: E) => unknown {
  return (request, env) => {
    (env as Record<string, unknown>)[LOCAL_SOCKET] = true;
    return fetch(request, env);
  };
}

/** Each TLS connection's client certificate, read and hashed once for all the requests it carries (keep-alive). */
const peers = new WeakMap<object, TlsPeer>();

/** The client certificate a TLS connection presented (none: both null). */
export function tlsPeerOf(socket: Partial<TLSSocket>): TlsPeer {
  let peer = peers.get(socket);
  if (!peer) {
    const presented = socket.getPeerCertificate?.(false);
    const certificate = presented && presented.raw ? new Uint8Array(presented.raw) : null;
    peer = { certificate, fingerprint: certificate ? derFingerprint(certificate) : null };
    peers.set(socket, peer);
  }
  return peer;
}

/** Wraps the app's fetch for an HTTPS listener: hands the route the client certificate of the request's TLS connection. */
export function tlsPeerFetch<E>(fetch: (request: Request, env: E) => unknown): (request: Request, env: E) => unknown {
  return (request, env) => {
    const socket = (env as { incoming?: { socket?: Partial<TLSSocket> } }).incoming?.socket;
    (env as Record<string, unknown>)[TLS_PEER] = socket ? tlsPeerOf(socket) : { certificate: null, fingerprint: null };
    return fetch(request, env);
  };
}

const READ_METHODS = new Set(["GET", "HEAD"]);

/**
 * Requests answered without a bearer token. The join exchange is how an agent gets its first
 * token: its join secret is its proof, checked by the route (401 for an unknown, used, expired or
 * revoked one).
 */
export const PUBLIC_ROUTES: readonly { method: string; path: string }[] = [
  { method: "POST", path: "/1.0/cluster/join" },
  // A trust token is the proof: the route registers the client certificate presented with it.
  { method: "POST", path: "/1.0/certificates" },
];

/**
 * Requests an untrusted client may make over HTTPS, as LXD: GET /1.0 answers `auth: "untrusted"`
 * (lxc reads it before adding a remote). Over plain HTTP they need a token like every other.
 */
export const UNTRUSTED_ROUTES: readonly { method: string; path: string }[] = [
  { method: "GET", path: "/1.0" },
];

/**
 * What an agent token may do, each rule under its own member's path,
 * /1.0/cluster/members/{its member}{suffix}: heartbeat as that member (with what it observes),
 * read the member, its state and its desired state (the long-poll), and answer the requests that
 * came with it. Anything else, and every other member's paths, is 403.
 */
export const AGENT_ALLOWED_ROUTES: readonly { methods: readonly string[]; suffix: RegExp }[] = [
  { methods: ["GET", "HEAD"], suffix: /^$/ },
  { methods: ["GET", "HEAD"], suffix: /^\/state$/ },
  { methods: ["GET", "HEAD"], suffix: /^\/desired$/ },
  { methods: ["POST"], suffix: /^\/heartbeat$/ },
  { methods: ["POST"], suffix: /^\/answers\/[^/]+$/ },
];

const MEMBER_PATH = /^\/1\.0\/cluster\/members\/([^/]+)(\/.*)?$/;

function agentMayAccess(token: TokenInfo, method: string, path: string): boolean {
  const m = MEMBER_PATH.exec(path);
  if (!m || decodePathSegment(m[1]) !== token.member) return false;
  const suffix = m[2] ?? "";
  return AGENT_ALLOWED_ROUTES.some((rule) => rule.methods.includes(method) && rule.suffix.test(suffix));
}

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest(`Malformed percent-encoding in the request path: ${JSON.stringify(segment.slice(0, 80))}`);
  }
}

/** Who a request presenting a trusted client certificate acts as: admin, as in LXD. */
export function certificateUser(cert: CertificateInfo): TokenInfo {
  return {
    id: cert.fingerprint, role: "admin", member: null, description: `Client certificate "${cert.name}"`, created_at: cert.created_at, last_used_at: null,
  };
}

const matches = (routes: readonly { method: string; path: string }[], method: string, path: string) =>
  routes.some((route) => route.method === method && route.path === path);

export function authenticate(tokens: TokenService, trust: TrustService): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    if (c.env?.[LOCAL_SOCKET] === true) {
      c.set("token", LOCAL_SOCKET_USER);
      return next();
    }
    const header = c.req.header("authorization");
    const tls = c.env?.[TLS_PEER];
    // A bearer token, when sent, decides; otherwise a trusted client certificate over HTTPS.
    if (header === undefined && tls?.fingerprint) {
      const cert = await trust.trusted(tls.fingerprint);
      if (cert) {
        c.set("token", certificateUser(cert));
        c.set("certificate", cert);
        return next();
      }
    }
    // Without a header a public route is answered as it is; with one, the token is checked (an
    // admin makes a trust token with POST /1.0/certificates).
    if (header === undefined && matches(PUBLIC_ROUTES, c.req.method, c.req.path)) return next();
    if (header === undefined && tls && matches(UNTRUSTED_ROUTES, c.req.method, c.req.path)) return next();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
    if (!match) {
      if (tls?.fingerprint) {
        throw unauthorized(
          `This client certificate (fingerprint ${tls.fingerprint}) is not trusted: add it with a trust token (berth trust add NAME, then lxc remote add REMOTE TOKEN), or send Authorization: Bearer <token>`,
        );
      }
      if (tls) {
        throw unauthorized("Not trusted: present a trusted client certificate (berth trust add NAME makes a token for lxc remote add REMOTE TOKEN), or send Authorization: Bearer <token>");
      }
      throw unauthorized("Missing bearer token: send Authorization: Bearer <token>");
    }
    const token = await tokens.authenticate(match[1]);
    if (!token) throw unauthorized("Invalid or revoked token");
    const method = c.req.method;
    if (token.role === "viewer" && !READ_METHODS.has(method)) {
      throw forbidden(`A viewer token may only read; ${method} ${c.req.path} needs an admin token`);
    }
    if (token.role === "agent" && !agentMayAccess(token, method, c.req.path)) {
      throw forbidden(`An agent token for member "${token.member}" may only use its own member's paths (heartbeat, state, desired state, answers); ${method} ${c.req.path} is not allowed`);
    }
    c.set("token", token);
    await next();
  };
}
