/** A request over a unix socket (no token), as LXD clients send them. */
import { request } from "node:http";

export interface UnixReply {
  status: number;
  body: any;
}

export function unixRequest(socketPath: string, method: string, path: string, body?: unknown): Promise<UnixReply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = { host: "unix.socket" };
    if (payload) {
      headers["content-type"] = "application/json";
      headers["content-length"] = payload.length;
    }
    const req = request({ socketPath, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = { raw: text };
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.once("error", reject);
    req.end(payload);
  });
}
