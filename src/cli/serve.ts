/**
 * `berth serve`: the scheduling service on its listeners. Plain HTTP only on loopback addresses
 * (localhost, 127.0.0.0/8, ::1); HTTPS with the service certificate on every other address, and on
 * loopback too with --tls (docs/tls.md). Also the local unix socket (<data>/unix.socket, mode
 * 0660) whose users are admin, as LXD's. Every listener upgrades GET /1.0/events to a websocket.
 */
import { createServer as createHttpsServer } from "node:https";
import { networkInterfaces } from "node:os";
import { createAdaptorServer, type ServerType } from "@hono/node-server";
import type { FastPath } from "../api/heartbeatFastPath.ts";
import { chmodSync, lstatSync, unlinkSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { WebSocketServer } from "ws";
import { localSocketFetch, tlsPeerFetch } from "../api/auth.ts";
import { isLoopbackHost } from "../domain/addresses.ts";
import { NO_ENDPOINTS, type ServiceEndpoints } from "../domain/endpoints.ts";
import { createBerth, type Berth, type BerthOptions } from "../main.ts";

export interface ServeOptions extends Omit<BerthOptions, "endpoints"> {
  /** host:port, [v6]:port or :port; several as a list or comma separated. */
  listen: string | string[];
  /** HTTPS on loopback addresses too (they get plain HTTP otherwise). */
  tls?: boolean;
  /** The local unix socket: a path, or false for none. Default <data>/unix.socket. */
  unix?: string | false;
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
  /** The unix socket's path, or null when there is none. */
  socketPath: string | null;
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

type Fetch = Parameters<typeof createAdaptorServer>[0]["fetch"];

/** A unix socket path longer than this does not fit in sockaddr_un on Linux (108 bytes with the NUL). */
const MAX_SOCKET_PATH = 107;

interface Bound {
  server: ServerType;
  /** Its upgraded connections (the event streams). */
  websockets: WebSocketServer;
}

/**
 * A server for the app (HTTPS with the certificate when given) whose GET /1.0/events can upgrade to
 * a websocket. HTTPS asks every client for its certificate without requiring one or checking it
 * against a CA (requestCert, rejectUnauthorized: false), as LXD: a trusted one (by fingerprint,
 * the trust store) makes the request admin; an absent or unknown one leaves it untrusted.
 */
function appServer(fetch: Fetch, certificate?: { cert: string; key: string }, fastPath?: FastPath): Bound {
  const websockets = new WebSocketServer({ noServer: true });
  const server = certificate
    ? createAdaptorServer({
      fetch: tlsPeerFetch(fetch) as Fetch, websocket: { server: websockets }, createServer: createHttpsServer,
      serverOptions: { cert: certificate.cert, key: certificate.key, requestCert: true, rejectUnauthorized: false },
    })
    : createAdaptorServer({ fetch, websocket: { server: websockets }, createServer: createHttpServer });
  if (fastPath) {
    // In front of hono's listener: what the fast path does not take goes on to hono unchanged.
    const [hono] = server.listeners("request") as ((req: IncomingMessage, res: ServerResponse) => void)[];
    server.removeAllListeners("request");
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      if (!fastPath(req, res, hono)) hono(req, res);
    });
  }
  return { server, websockets };
}

function listening(server: ServerType, listen: (onListening: () => void) => void): Promise<void> {
  return new Promise((resolveListen, reject) => {
    server.once("error", reject);
    listen(() => {
      server.off("error", reject);
      resolveListen();
    });
  });
}

/**
 * Clears the way for the socket: a stale socket file (nobody answers on it) is removed; a socket
 * another process serves, or a file that is not a socket, is an error naming the path.
 */
async function clearStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new Error(`--unix: ${path} exists and is not a socket; remove it or choose another path`);
  const inUse = await new Promise<boolean>((answer) => {
    const probe = connect(path);
    probe.once("connect", () => { probe.destroy(); answer(true); });
    probe.once("error", () => answer(false));
  });
  if (inUse) throw new Error(`--unix: another process serves ${path} (is berth serve already running with this data directory?); stop it or use --unix PATH / --no-unix`);
  unlinkSync(path);
}

async function listenUnix(server: ServerType, path: string): Promise<void> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw new Error(`--unix: the socket path is ${Buffer.byteLength(path)} bytes, at most ${MAX_SOCKET_PATH} fit: ${path}`);
  }
  await clearStaleSocket(path);
  // The socket is created with mode 0777 & ~umask: create it 0660 from the start (no window in
  // which others could connect), then set the mode explicitly.
  const umask = process.umask(0o117);
  try {
    await listening(server, (done) => server.listen(path, done));
  } finally {
    process.umask(umask);
  }
  chmodSync(path, 0o660);
}

/** Stops listening and ends every connection, event streams included (the server waits for those otherwise). */
function closeBound({ server, websockets }: Bound): Promise<void> {
  return new Promise<void>((r) => {
    server.close(() => r());
    (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    for (const client of websockets.clients) client.terminate();
  });
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const wanted = parseListenList(opts.listen).map((l) => ({ ...l, tls: listenerUsesTls(l.host, opts.tls ?? false) }));
  let endpoints: ServiceEndpoints = NO_ENDPOINTS; // known once every listener is bound
  const berth = await createBerth({ ...opts, endpoints: () => endpoints });
  const bound: Bound[] = [];
  const listeners: Listener[] = [];
  const closeAll = () => Promise.all(bound.filter((b) => b.server.listening).map(closeBound));
  let socketPath: string | null = null;
  try {
    for (const { host, port, tls } of wanted) {
      const b = appServer(berth.app.fetch as Fetch, tls ? berth.certificate : undefined, berth.fastPath);
      bound.push(b);
      try {
        await listening(b.server, (done) => b.server.listen(port, host, done));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new Error(`Cannot listen on ${hostInUrl(host)}:${port}: ${code === "EADDRINUSE" ? "the address is in use" : (err as Error).message}`, { cause: err });
      }
      const address = b.server.address();
      const actualPort = typeof address === "object" && address ? address.port : port;
      listeners.push({ host, port: actualPort, tls, url: `${tls ? "https" : "http"}://${hostInUrl(host)}:${actualPort}` });
    }
    if (opts.unix !== false) {
      socketPath = resolve(opts.unix ?? join(opts.dataDir, "unix.socket"));
      const local = appServer(localSocketFetch(berth.app.fetch) as Fetch);
      bound.push(local);
      await listenUnix(local.server, socketPath);
    }
  } catch (err) {
    await closeAll();
    await berth.close();
    throw err;
  }
  endpoints = serviceEndpoints(listeners);
  await berth.listening();
  return {
    berth,
    servers: bound.map((b) => b.server),
    listeners,
    url: listeners[0].url,
    fingerprint: berth.certificate.fingerprint,
    socketPath,
    async close() {
      await closeAll(); // a unix socket's file goes with its server
      await berth.close();
    },
  };
}
