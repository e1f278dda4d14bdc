// Second half of `npm run build` (after tsc): copies into dist/ the files src/ needs at run time that
// are not TypeScript (the drizzle migrations, ...), and removes what dist/ holds for a source that
// no longer exists, so a deleted or renamed module cannot linger in the compiled service.
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SRC = join(ROOT, "src");
const DIST = join(ROOT, "dist");

/** Sources that are not run time assets: TypeScript (compiled by tsc), documentation, and the
 *  worker entry that loads worker.ts through tsx when the service runs from source. */
const SOURCE_ONLY = [/\.ts$/, /\.md$/, /^sandbox\/workerEntry\.mjs$/];

function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? walk(path) : [path];
  });
}

const toPosix = (path) => path.split("\\").join("/");
const assets = walk(SRC).map((path) => toPosix(relative(SRC, path))).filter((rel) => !SOURCE_ONLY.some((re) => re.test(rel)));
for (const rel of assets) {
  mkdirSync(dirname(join(DIST, rel)), { recursive: true });
  copyFileSync(join(SRC, rel), join(DIST, rel));
}

// What each dist file is built from: x.js ← x.ts, an asset ← itself.
const wanted = new Set(assets);
let removed = 0;
for (const path of walk(DIST)) {
  const rel = toPosix(relative(DIST, path));
  if (rel === ".tsbuildinfo" || wanted.has(rel)) continue;
  if (rel.endsWith(".js") && existsSync(join(SRC, rel.replace(/\.js$/, ".ts")))) continue;
  rmSync(path);
  removed++;
}
console.log(`dist: ${assets.length} assets copied${removed ? `, ${removed} stale files removed` : ""}`);
