/** What a member offers after overcommit (total × allocation ratio). */

/** Floored, with a hair of slack so a ratio like 1.1 never loses a unit to rounding: requests
 *  are whole millicores and bytes, so fractional capacity never decides a fit. */
export function capacity(total: number, ratio: number): number {
  return Math.floor(total * ratio + 1e-6);
}
