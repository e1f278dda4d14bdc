/** Byte sizes as LXD writes them: "512MiB", "2GiB", "10GB", "1024" (bytes). */
const UNITS: Record<string, number> = {
  "": 1, B: 1,
  kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, PB: 1e15,
  KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4, PiB: 1024 ** 5,
};

const SIZE_RE = /^\s*(\d{1,30}(?:\.\d{1,30})?)\s*([kKMGTP]i?B|B)?\s*$/;

/** The largest size Berth accepts anywhere (8 PiB): exact in a double, and sums of many stay finite. */
export const MAX_SIZE_BYTES = Number.MAX_SAFE_INTEGER;

/** Parses a size into bytes; returns null when the text is not a size or is larger than MAX_SIZE_BYTES. */
export function parseSize(text: string): number | null {
  const m = SIZE_RE.exec(text);
  if (!m) return null;
  const unit = UNITS[m[2] ?? ""];
  if (unit === undefined) return null;
  const bytes = Math.round(Number(m[1]) * unit);
  return Number.isFinite(bytes) && bytes <= MAX_SIZE_BYTES ? bytes : null;
}

/** Formats bytes the way a person reads them: 1.5GiB, 512MiB, 100B. */
export function formatSize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let i = 0;
  while (Math.abs(value) >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  const text = Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/\.?0+$/, "");
  return `${text}${units[i]}`;
}
