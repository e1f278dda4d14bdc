/** The member must run the instance's architecture (x86_64 also runs i686; aarch64 also runs armv7l). */
import { canonicalArchitecture } from "../architectures.ts";
import type { PreparedRequest } from "../prepared.ts";
import type { RejectionFacts } from "./facts.ts";

export const ARCHITECTURE_FILTER = "architecture";

export function applyArchitecture(p: PreparedRequest, verdicts: Uint8Array, base: number, from: number, to: number): void {
  if (p.anyArchitecture) return;
  const arch = p.columns.archCode;
  const a = p.archA; // interned codes of the host architectures that run the request; -1 = none
  const b = p.archB;
  for (let slot = from; slot < to; slot++) {
    if (verdicts[slot] === 0 && arch[slot] !== a && arch[slot] !== b) verdicts[slot] = base + 1;
  }
}

export function describeArchitecture(f: RejectionFacts): string {
  return `member is ${f.info.architecture} and cannot run ${canonicalArchitecture(f.request.architecture)}`;
}
