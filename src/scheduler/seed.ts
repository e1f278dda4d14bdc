/** Stable hashing for seeds and tie-breaks: the same inputs give the same numbers on every run. */

/** FNV-1a over UTF-16 code units, 32 bits. Stable across processes and Node versions. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's finaliser: spreads every input bit over the output, so seed ^ nameHash orders members randomly. */
export function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The default seed of a placement: a hash of the instance's project and name, so a dry run
 *  and the real placement of the same instance break ties the same way. */
export function seedFor(project: string, name: string): number {
  return mix32(hashString(`${project}/${name}`));
}

/** The seeded random tie-break of one member; lower wins. Depends on the member's name, not its
 *  position in the view, so removing or re-adding other members does not reshuffle ties. */
export function tieBreakOf(seed: number, nameHash: number): number {
  return mix32((seed ^ nameHash) >>> 0);
}
