/**
 * `berth serve`: the scheduling service on its listeners: HTTP on --listen, and the local unix
 * socket (<data>/unix.socket, mode 0660) whose users are admin, as LXD's. Both upgrade
 * GET /1.0/events to a websocket.
 */
import { createAdaptorServer, type ServerType } from "@hono/node-server";
import { chmodSync, lstatSync, unlinkSync } from "node:fs";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { WebSocketServer } from "ws";
import { localSocketFetch } from "../api/auth.ts";
import { createBerth, type Berth, type BerthOptions } from "../main.ts";

export interface ServeOptions extends BerthOptions {
  listen: string; // host:port, [v6]:port or :port
  /** The local unix socket: a path, or false for none. Default <data>/unix.socket. */
  unix?: string | false;
}

export interface RunningServer {
  berth: Berth;
  server: ServerType;
  url: string;
  /** The unix socket's path, or null when there is none. */
  socketPath: string | null;
  close(): Promise<void>;
}

/** A unix socket path longer than this does not fit in sockaddr_un on Linux (108 bytes with the NUL). */
const MAX_SOCKET_PATH = 107;

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen);
  if (!m) throw new Error(`--listen must be host:port (e.g. 127.0.0.1:8443), got "${listen}"`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`--listen port must be at most 65535, got ${port}`);
  return { host: m[1] ?? (m[2] || "127.0.0.1"), port };
}

type Fetch = Parameters<typeof createAdaptorServer>[0]["fetch"];

interface Listener {
  server: ServerType;
  /** Its upgraded connections (the event streams). */
  websockets: WebSocketServer;
}

/** An HTTP server for the app whose GET /1.0/events can upgrade to a websocket. */
function httpServer(fetch: Fetch): Listener {
  const websockets = new WebSocketServer({ noServer: true });
  return { server: createAdaptorServer({ fetch, websocket: { server: websockets } }), websockets };
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
function closeListener({ server, websockets }: Listener): Promise<void> {
  return new Promise<void>((r) => {
    server.close(() => r());
    (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    for (const client of websockets.clients) client.terminate();
  });
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const { host, port } = parseListen(opts.listen);
  const berth = await createBerth(opts);
  const listeners: Listener[] = [];
  try {
    const tcp = httpServer(berth.app.fetch as Fetch);
    listeners.push(tcp);
    const { server } = tcp;
    await listening(server, (done) => server.listen(port, host, done));
    const address = server.address();
    const actualPort = typeof address === "object" && address ? address.port : port;
    const url = `http://${host.includes(":") ? `[${host}]` : host}:${actualPort}`;

    let socketPath: string | null = null;
    if (opts.unix !== false) {
      socketPath = resolve(opts.unix ?? join(opts.dataDir, "unix.socket"));
      const local = httpServer(localSocketFetch(berth.app.fetch) as Fetch);
      listeners.push(local);
      await listenUnix(local.server, socketPath);
    }
    return {
      berth,
      server,
      url,
      socketPath,
      async close() {
        await Promise.all(listeners.map(closeListener)); // a unix socket's file goes with its server
        await berth.close();
      },
    };
  } catch (err) {
    await Promise.all(listeners.filter((l) => l.server.listening).map(closeListener));
    await berth.close();
    throw err;
  }
}
