/** How the dashboard writes numbers, sizes and times. */
import { formatSize } from "../../src/domain/units.ts";

export const size = (bytes: number): string => formatSize(Math.round(bytes));

/** Cores with at most 2 decimals (requests can be fractional). */
export const cores = (n: number): string => String(Math.round(n * 100) / 100);

export const percent = (fraction: number): string => `${Math.round(fraction * 100)}%`;

/** "12s ago", "3m ago", "2h ago", "4d ago"; "never" for null. */
export function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return "never";
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 90) return `${seconds}s ago`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)}m ago`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)}h ago`;
  return `${Math.round(seconds / 86400)}d ago`;
}

/** Local time of day, with the date when it is not today. */
export function when(iso: string): string {
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  return today ? date.toLocaleTimeString() : date.toLocaleString();
}

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
