/**
 * A loopback port nothing listens on: the kernel picks it (bound to port 0, then released), so it
 * never collides with a port already in use, as a random pick in the ephemeral range could.
 */
import { createServer } from "node:net";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
