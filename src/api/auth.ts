/** Bearer-token authentication and role checks: admin (all), viewer (reads), agent (its own member). */
import type { MiddlewareHandler } from "hono";
import { badRequest, forbidden, unauthorized } from "../domain/errors.ts";
import type { TokenInfo } from "../domain/types.ts";
import type { TokenService } from "../cluster/tokenService.ts";

/**
 * The adapter's per-request bindings. The unix-socket listener sets LOCAL_SOCKET on them: whoever
 * can open the socket is admin, as with LXD's local socket (the socket's file mode is the access
 * control). Nothing a TCP client sends can set it.
 */
export const LOCAL_SOCKET = "berthLocalSocket";
export type AuthEnv = { Variables: { token: TokenInfo }; Bindings: { [LOCAL_SOCKET]?: boolean } };

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

const READ_METHODS = new Set(["GET", "HEAD"]);

/**
 * Requests answered without a bearer token. The join exchange is how an agent gets its first
 * token: its join secret is its proof, checked by the route (401 for an unknown, used, expired or
 * revoked one).
 */
export const PUBLIC_ROUTES: readonly { method: string; path: string }[] = [
  { method: "POST", path: "/1.0/cluster/join" },
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

export function authenticate(tokens: TokenService): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    if (c.env?.[LOCAL_SOCKET] === true) {
      c.set("token", LOCAL_SOCKET_USER);
      return next();
    }
    if (PUBLIC_ROUTES.some((route) => route.method === c.req.method && route.path === c.req.path)) return next();
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw unauthorized("Missing bearer token: send Authorization: Bearer <token>");
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
