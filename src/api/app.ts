/** The hono app: envelope, auth, metrics, request logging, and every route. */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { BerthError, notFound } from "../domain/errors.ts";
import { authenticate, type AuthEnv } from "./auth.ts";
import { errorBody, errorResponse, sync } from "./envelope.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { catalogRoutes } from "./routes/catalog.ts";
import { certificateRoutes } from "./routes/certificates.ts";
import { eventRoutes } from "./routes/events.ts";
import { groupRoutes } from "./routes/groups.ts";
import { instanceRoutes } from "./routes/instances.ts";
import { joinRoutes } from "./routes/join.ts";
import { memberRoutes } from "./routes/members.ts";
import { operationRoutes } from "./routes/operations.ts";
import { serverRoutes } from "./routes/server.ts";
import { tokenRoutes } from "./routes/tokens.ts";
import { uiRoutes } from "./routes/ui.ts";
import type { Services } from "./services.ts";
import type { ServiceEndpoints } from "../domain/endpoints.ts";
import { MAX_BODY_BYTES } from "./validation.ts";
import { methodIndex } from "./methods.ts";

export interface AppInfo {
  version: string;
  serverName: string;
  /** The built dashboard (ui/dist), served at /ui/. */
  uiDir: string;
  /** The service's certificate (PEM) and its SHA-256 fingerprint, shown in GET /1.0. */
  certificate: { pem: string; fingerprint: string };
  /** Where the service listens (known once it does). */
  endpoints: () => ServiceEndpoints;
}

/** Extra route groups added by later modules (placement, scriptlets, evacuation). */
export type RouteModule = (app: Hono<AuthEnv>, s: Services) => void;

export function createApp(s: Services, info: AppInfo, extra: RouteModule[] = [], metrics: Metrics = createMetrics(s)): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const logError = (err: unknown) => s.logger.error({ err }, "request failed");

  app.onError((err, c) => errorResponse(c, err, logError));
  app.notFound((c) => c.json(errorBody(404, `Not found: ${c.req.method} ${c.req.path}`), 404));

  app.use("*", metrics.middleware);
  app.get("/", (c) => sync(c, ["/1.0"]));
  app.use("/1.0", authenticate(s.tokens, s.trust));
  app.use("/1.0/*", authenticate(s.tokens, s.trust));
  // Body size cap. A declared Content-Length is checked up front (readBody checks what arrives);
  // only a chunked body without a length goes through hono's streaming limiter, which builds a full
  // Request object and so costs more than the rest of a small request together.
  const streamingLimit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => { throw new BerthError(413, `Request body too large (at most ${MAX_BODY_BYTES} bytes)`); },
  });
  app.use("/1.0/*", async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD" || c.req.method === "DELETE") return next();
    const declared = c.req.header("content-length");
    if (declared === undefined) return streamingLimit(c, next);
    if (Number(declared) > MAX_BODY_BYTES) throw new BerthError(413, `Request body too large (${declared} bytes, at most ${MAX_BODY_BYTES})`);
    return next();
  });
  app.use("/1.0/*", async (c, next) => {
    // Writes are JSON: refuse other declared content types early and clearly.
    const type = c.req.header("content-type");
    if (["POST", "PUT", "PATCH"].includes(c.req.method) && type && !/^application\/json\b/i.test(type)) {
      throw new BerthError(415, `Content-Type must be application/json, got ${JSON.stringify(type)}`);
    }
    await next();
  });

  app.get("/1.0/metrics", async (c) => {
    c.header("Content-Type", metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  });

  serverRoutes(app, s, info);
  memberRoutes(app, s);
  groupRoutes(app, s);
  catalogRoutes(app, s);
  instanceRoutes(app, s);
  operationRoutes(app, s, info.serverName);
  tokenRoutes(app, s);
  joinRoutes(app, s);
  certificateRoutes(app, s, info.serverName);
  eventRoutes(app, s, info.serverName);
  uiRoutes(app, info.uiDir);
  for (const module of extra) module(app, s);
  const methodsOf = methodIndex(app);
  app.all("/1.0/*", (c) => {
    const allowed = methodsOf(c.req.path);
    if (allowed.length === 0) throw notFound(`Not found: ${c.req.method} ${c.req.path}`);
    c.header("Allow", allowed.join(", "));
    throw new BerthError(405, `Method ${c.req.method} is not allowed on ${c.req.path} (allowed: ${allowed.join(", ")})`);
  });
  return app;
}
