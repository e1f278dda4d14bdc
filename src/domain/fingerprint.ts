/** TLS certificate fingerprints as LXD writes them: the SHA-256 of the certificate's DER, 64 lowercase hex digits. */

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * A fingerprint typed or pasted by a person, in the canonical form: "AB:CD:..." (as openssl and
 * node print it) and upper case are accepted. Returns null when it is not a SHA-256 fingerprint.
 */
export function normalizeFingerprint(text: string): string | null {
  const compact = text.trim().replace(/^sha256:/i, "").replace(/[:\s]/g, "").toLowerCase();
  return HEX64.test(compact) ? compact : null;
}
