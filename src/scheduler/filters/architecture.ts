/** The member must run the instance's architecture (x86_64 also runs i686; aarch64 also runs armv7l). */
import { canonicalArchitecture } from "../architectures.ts";
import type { PreparedRequest } from "../prepared.ts";
import type { RejectionFacts } from "./facts.ts";

export const ARCHITECTURE_FILTER = "architecture";

export function checkArchitecture(p: PreparedRequest, slot: number): number {
  if (p.anyArchitecture) return 0;
  const arch = p.columns.archCode[slot];
  return arch === p.archA || arch === p.archB ? 0 : 1;
}

/** Marks every member still passing (verdict 0) that this filter drops with `base` + detail. */
export function applyArchitecture(p: PreparedRequest, verdicts: Uint8Array, base: number): void {
  for (let slot = 0; slot < p.size; slot++) {
    if (verdicts[slot] !== 0) continue;
    const detail = checkArchitecture(p, slot);
    if (detail !== 0) verdicts[slot] = base + detail;
  }
}

export function describeArchitecture(f: RejectionFacts): string {
  return `member is ${f.info.architecture} and cannot run ${canonicalArchitecture(f.request.architecture)}`;
}
