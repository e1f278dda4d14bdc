/** The member must run the instance's architecture (x86_64 also runs i686; aarch64 also runs armv7l). */
import { canonicalArchitecture } from "../architectures.ts";
import type { PreparedRequest } from "../prepared.ts";
import type { Filter, RejectionFacts, Verdicts } from "./filter.ts";

export const ARCHITECTURE_FILTER = "architecture";

function apply(p: PreparedRequest, list: Int32Array, count: number, verdicts: Verdicts, id: number): number {
  if (p.anyArchitecture) return count;
  const arch = p.columns.archCode;
  const a = p.archA; // interned codes of the host architectures that run the request; -1 = none
  const b = p.archB;
  const by = verdicts.by;
  let kept = 0;
  for (let k = 0; k < count; k++) {
    const slot = list[k];
    const code = arch[slot];
    if (code === a || code === b) list[kept++] = slot;
    else by[slot] = id;
  }
  return kept;
}

function describe(f: RejectionFacts): string {
  return `member is ${f.info.architecture} and cannot run ${canonicalArchitecture(f.request.architecture)}`;
}

export const architectureFilter: Filter = { name: ARCHITECTURE_FILTER, apply, describe };
