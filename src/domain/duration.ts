/** Durations as an operator types them: "90s", "30m", "1h", "1h30m", "7d". */

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = /^(?:\d{1,6}[smhd])+$/;

/** Milliseconds, or null when the text is not a duration (units s, m, h, d; e.g. "3h", "1h30m"). */
export function parseDuration(text: string): number | null {
  const t = text.trim().toLowerCase();
  if (!DURATION_RE.test(t)) return null;
  let ms = 0;
  for (const [, n, unit] of t.matchAll(/(\d+)([smhd])/g)) ms += Number(n) * UNIT_MS[unit];
  return ms;
}
