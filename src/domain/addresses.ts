/**
 * What counts as loopback for Berth's listeners and clients: the names and addresses that never
 * leave this machine. Plain HTTP is allowed only on these (docs/decisions.md).
 */

/** localhost, 127.0.0.0/8, ::1, and 127.x.y.z written as an IPv4-mapped IPv6 address. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (h === "localhost") return true;
  if (h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return v4 !== null && Number(v4[1]) === 127 && v4.slice(2).every((part) => Number(part) <= 255);
}
