/**
 * `berth serve`: the scheduling service on its listeners. Plain HTTP only on loopback addresses
 * (localhost, 127.0.0.0/8, ::1); HTTPS with the service certificate on every other address, and on
 * loopback too with --tls. See docs/tls.md.
 */
import { createServer as createHttpsServer } from "node:https";
import { networkInterfaces } from "node:os";
import { serve, type ServerType } from "@hono/node-server";
import { isLoopbackHost } from "../domain/addresses.ts";
import { NO_ENDPOINTS, type ServiceEndpoints } from "../domain/endpoints.ts";
import { createBerth, type Berth, type BerthOptions } from "../main.ts";

export interface ServeOptions extends Omit<BerthOptions, "endpoints"> {
  /** host:port, [v6]:port or :port; several as a list or comma separated. */
  listen: string | string[];
  /** HTTPS on loopback addresses too (they get plain HTTP otherwise). */
  tls?: boolean;
}

export interface Listener {
  host: string;
  port: number;
  tls: boolean;
  /** http(s)://host:port as bound (a wildcard host as given). */
  url: string;
}

export interface RunningServer {
  berth: Berth;
  servers: ServerType[];
  listeners: Listener[];
  /** The first listener's URL. */
  url: string;
  /** SHA-256 of the certificate the HTTPS listeners present. */
  fingerprint: string;
  close(): Promise<void>;
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen.trim());
  if (!m) throw new Error(`--listen must be host:port (e.g. 127.0.0.1:8443), got "${listen}"`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`--listen port must be at most 65535, got ${port}`);
  return { host: m[1] ?? (m[2] || "127.0.0.1"), port };
}

/** Every address of --listen (repeated, or comma separated), in order, without repeats. */
export function parseListenList(listen: string | string[]): { host: string; port: number }[] {
  const items = (Array.isArray(listen) ? listen : [listen]).flatMap((l) => l.split(",")).map((l) => l.trim()).filter((l) => l !== "");
  if (items.length === 0) throw new Error("--listen needs at least one host:port");
  const seen = new Set<string>();
  return items.map(parseListen).filter((l) => {
    const key = `${l.host}|${l.port}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

/** Plain HTTP is for loopback alone: everywhere else (a wildcard included) is HTTPS; --tls makes loopback HTTPS too. */
export function listenerUsesTls(host: string, forceTls: boolean): boolean {
  return forceTls || !isLoopbackHost(host);
}

const hostInUrl = (host: string) => (host.includes(":") ? `[${host}]` : host);
const isWildcard = (host: string) => host === "0.0.0.0" || host === "::" || host === "0:0:0:0:0:0:0:0";

/** The addresses a wildcard listener answers on, as others reach this machine (IPv4 first; IPv6 link-local left out). */
function interfaceAddresses(host: string): string[] {
  const all = Object.values(networkInterfaces()).flatMap((list) => list ?? []).filter((a) => !a.internal);
  const v4 = all.filter((a) => a.family === "IPv4").map((a) => a.address);
  const v6 = all.filter((a) => a.family === "IPv6" && !a.address.toLowerCase().startsWith("fe80:")).map((a) => a.address);
  const found = host === "0.0.0.0" ? v4 : [...v4, ...v6];
  return found.length > 0 ? found : [host === "0.0.0.0" ? "127.0.0.1" : "::1"];
}

/**
 * Where the service is reached, for join tokens and GET /1.0: the https:// URLs of its HTTPS
 * listeners (a wildcard expanded to this machine's addresses), or, when it has none, the http://
 * URLs of its loopback listeners.
 */
export function serviceEndpoints(listeners: Listener[]): ServiceEndpoints {
  const expand = (l: Listener) => (isWildcard(l.host) ? interfaceAddresses(l.host) : [l.host]).map((host) => `${hostInUrl(host)}:${l.port}`);
  const secure = listeners.filter((l) => l.tls);
  const advertised = secure.length > 0 ? secure : listeners;
  const urls = advertised.flatMap((l) => expand(l).map((address) => `${l.tls ? "https" : "http"}://${address}`));
  return { urls: [...new Set(urls)], addresses: [...new Set(listeners.flatMap(expand))] };
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const wanted = parseListenList(opts.listen).map((l) => ({ ...l, tls: listenerUsesTls(l.host, opts.tls ?? false) }));
  let endpoints: ServiceEndpoints = NO_ENDPOINTS; // known once every listener is bound
  const berth = await createBerth({ ...opts, endpoints: () => endpoints });
  const servers: ServerType[] = [];
  const listeners: Listener[] = [];
  const closeAll = async () => {
    await Promise.all(servers.map((server) => new Promise<void>((r) => {
      server.close(() => r());
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    })));
  };
  try {
    for (const { host, port, tls } of wanted) {
      const server = await new Promise<ServerType>((resolveServer, reject) => {
        const options = { fetch: berth.app.fetch, hostname: host, port };
        const s = tls
          ? serve({ ...options, createServer: createHttpsServer, serverOptions: { cert: berth.certificate.cert, key: berth.certificate.key } }, () => resolveServer(s))
          : serve(options, () => resolveServer(s));
        s.once("error", (err: NodeJS.ErrnoException) => {
          reject(new Error(`Cannot listen on ${hostInUrl(host)}:${port}: ${err.code === "EADDRINUSE" ? "the address is in use" : err.message}`, { cause: err }));
        });
      });
      servers.push(server);
      const address = server.address();
      const actualPort = typeof address === "object" && address ? address.port : port;
      listeners.push({ host, port: actualPort, tls, url: `${tls ? "https" : "http"}://${hostInUrl(host)}:${actualPort}` });
    }
  } catch (err) {
    await closeAll();
    await berth.close();
    throw err;
  }
  endpoints = serviceEndpoints(listeners);
  return {
    berth,
    servers,
    listeners,
    url: listeners[0].url,
    fingerprint: berth.certificate.fingerprint,
    async close() {
      await closeAll();
      await berth.close();
    },
  };
}
