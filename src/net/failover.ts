/**
 * Clients given several addresses of one service (its replicas) try the next when a request
 * surely never reached the one they tried.
 */

/**
 * Whether a request surely never reached a service, so that another address may be tried: the
 * connection was not made. A reset or time-out after connecting may have left a write done: only
 * reads go on then.
 */
export function neverArrived(err: unknown, method: string): boolean {
  const code = (err as { code?: string }).code ?? "";
  if (["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "EADDRNOTAVAIL"].includes(code)) return true;
  return (method === "GET" || method === "HEAD") && (code === "ECONNRESET" || code === "ETIMEDOUT" || /socket hang up/.test(String((err as Error).message)));
}

/** "a, b" → ["a", "b"], without trailing slashes or empty entries. */
export function splitAddresses(list: string): string[] {
  return list.split(",").map((u) => u.trim().replace(/\/+$/, "")).filter((u) => u !== "");
}
