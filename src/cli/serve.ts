/** `berth serve`: the scheduling service on a listening HTTP server. */
import { serve, type ServerType } from "@hono/node-server";
import { createBerth, type Berth, type BerthOptions } from "../main.ts";

export interface ServeOptions extends BerthOptions {
  listen: string; // host:port, [v6]:port or :port
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen);
  if (!m) throw new Error(`--listen must be host:port (e.g. 127.0.0.1:8443), got "${listen}"`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`--listen port must be at most 65535, got ${port}`);
  return { host: m[1] ?? (m[2] || "127.0.0.1"), port };
}

export async function startServer(opts: ServeOptions): Promise<{ berth: Berth; server: ServerType; url: string; close(): Promise<void> }> {
  const { host, port } = parseListen(opts.listen);
  const berth = await createBerth(opts);
  const server = await new Promise<ServerType>((resolveServer, reject) => {
    const s = serve({ fetch: berth.app.fetch, hostname: host, port }, () => resolveServer(s));
    s.once("error", reject);
  });
  const address = server.address();
  const actualPort = typeof address === "object" && address ? address.port : port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${actualPort}`;
  return {
    berth,
    server,
    url,
    async close() {
      await new Promise<void>((r) => {
        server.close(() => r());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await berth.close();
    },
  };
}
