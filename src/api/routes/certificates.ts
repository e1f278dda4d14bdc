/**
 * The trust store, as LXD's /1.0/certificates:
 *   GET    /1.0/certificates                 URLs, or ?recursion=1 the certificates {name, type, fingerprint, certificate, ...}
 *   GET    /1.0/certificates/{fingerprint}   one (a unique prefix will do, as LXD)
 *   DELETE /1.0/certificates/{fingerprint}   stop trusting it (admin)
 *   POST   /1.0/certificates                 {type, name, token: true} (admin) → 202, a token-class operation carrying
 *                                            the trust token's parts; {certificate, name} (admin) adds that certificate;
 *                                            {password: TOKEN} without credentials, over HTTPS → trusts the client's certificate
 * and Berth's view of the tokens (never their secrets):
 *   GET    /1.0/trust-tokens[/{id}]          list (?recursion=1 for objects with status) or show
 *   DELETE /1.0/trust-tokens/{id}            revoke an unused token (admin)
 */
import type { Hono } from "hono";
import { badRequest, forbidden } from "../../domain/errors.ts";
import type { TrustTokenStatus } from "../../domain/trustToken.ts";
import type { Operation, OperationStatus, TokenInfo } from "../../domain/types.ts";
import type { TrustTokenView } from "../../cluster/trustService.ts";
import { TLS_PEER, type AuthEnv } from "../auth.ts";
import { async, sync } from "../envelope.ts";
import { certificatePostSchema } from "../schemas.ts";
import type { Services } from "../services.ts";
import { readBody, recursion } from "../validation.ts";

const TOKEN_OPERATION_STATUS = {
  valid: ["Running", 103], used: ["Success", 200], expired: ["Failure", 400], revoked: ["Cancelled", 401],
} as const satisfies Record<TrustTokenStatus, readonly [OperationStatus, number]>;

/**
 * A trust token as LXD's certificate add token operation (class "token"): Running while it can be
 * used, with what `lxc config trust add` turns into the token in its metadata (request.name,
 * fingerprint, addresses, expiresAt, and the secret only in the answer that made it). Berth keeps
 * the token as a stored record with the secret's hash, not as a running operation (docs/lxc.md);
 * GET and DELETE /1.0/operations/{id} reach it by this id.
 */
export function tokenOperation(token: TrustTokenView, service: { fingerprint: string; addresses: string[] }, location: string, secret?: string): Operation {
  const [status, code] = TOKEN_OPERATION_STATUS[token.status];
  return {
    id: token.id, class: "token", description: "Executing operation", created_at: token.created_at,
    updated_at: token.used_at ?? token.revoked_at ?? token.created_at, status, status_code: code, resources: {},
    metadata: {
      ...(secret === undefined ? {} : { secret }), fingerprint: service.fingerprint, addresses: service.addresses, expiresAt: token.expires_at,
      request: { name: token.name, type: token.type, restricted: false, projects: [], certificate: "", password: "", token: true },
    },
    may_cancel: token.status === "valid", err: token.status === "expired" ? `Token expired at ${token.expires_at}` : "", location,
  };
}

export function certificateRoutes(app: Hono<AuthEnv>, s: Services, location: string): void {
  app.get("/1.0/certificates", async (c) => {
    const certs = await s.trust.list();
    return sync(c, recursion(c) > 0 ? certs : certs.map((cert) => `/1.0/certificates/${cert.fingerprint}`));
  });

  app.get("/1.0/certificates/:fingerprint", async (c) => sync(c, await s.trust.get(c.req.param("fingerprint"))));

  app.delete("/1.0/certificates/:fingerprint", async (c) => {
    await s.trust.remove(c.req.param("fingerprint"));
    return sync(c, {});
  });

  app.post("/1.0/certificates", async (c) => {
    const body = await readBody(c, certificatePostSchema);
    const caller = c.get("token") as TokenInfo | undefined; // unset for an untrusted client
    const admin = caller?.role === "admin";
    if (body.restricted === true || (body.projects?.length ?? 0) > 0) {
      throw badRequest("restricted, projects: Berth trusts a certificate as admin; certificates restricted to projects are not supported");
    }
    if (body.token === true) {
      if (body.certificate) throw badRequest("certificate: can't use a certificate when a token is requested");
      if (!admin) throw forbidden("Only an admin may create trust tokens");
      if (!body.name) throw badRequest("name: the client's name is required with token: true");
      const issued = await s.trust.issue(body.name, body.type, body.expiry);
      return async(c, tokenOperation(issued.info, issued, location, issued.secret));
    }
    if (body.expiry) throw badRequest("expiry: only with token: true");
    // lxc sends every field, the empty ones as "" (certificate: "" with a token exchange).
    if (body.certificate) {
      if (!admin) throw forbidden("Only an admin may add a certificate directly; a client adds its own with a trust token");
      const cert = await s.trust.add(body.name, body.type, body.certificate);
      c.header("Location", `/1.0/certificates/${cert.fingerprint}`);
      return sync(c, cert, 201);
    }
    if (c.get("certificate")) throw badRequest("Client is already trusted");
    const cert = await s.trust.register(body.trust_token || body.password || "", c.env?.[TLS_PEER]?.certificate ?? null);
    c.header("Location", `/1.0/certificates/${cert.fingerprint}`);
    return sync(c, cert, 201);
  });

  app.get("/1.0/trust-tokens", async (c) => {
    const tokens = await s.trust.listTokens();
    return sync(c, recursion(c) > 0 ? tokens : tokens.map((t) => `/1.0/trust-tokens/${t.id}`));
  });

  app.get("/1.0/trust-tokens/:id", async (c) => sync(c, await s.trust.getToken(c.req.param("id"))));

  app.delete("/1.0/trust-tokens/:id", async (c) => {
    await s.trust.revokeToken(c.req.param("id"));
    return sync(c, {});
  });
}
