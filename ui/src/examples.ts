/** The example scriptlets of scriptlets/ (each tested under test/scriptlets/), bundled at build time. */
const sources = import.meta.glob<string>("../../scriptlets/*.js", { query: "?raw", import: "default", eager: true });

export interface Example {
  /** The file name: spread-failure-domains.js */
  name: string;
  /** The first comment line: "Spread across failure domains." */
  title: string;
  /** The rest of the opening comment. */
  summary: string;
  source: string;
}

export const EXAMPLES: Example[] = Object.entries(sources)
  .map(([path, source]) => {
    const lines = source.split("\n");
    const opening = lines.slice(0, Math.max(lines.findIndex((l) => !l.startsWith("//")), 0)).map((l) => l.replace(/^\/\/ ?/, ""));
    return {
      name: path.split("/").pop()!,
      title: (opening[0] ?? "").replace(/\.$/, ""),
      summary: opening.slice(1).join(" ").replace(/\s+/g, " ").trim(),
      source,
    };
  })
  .sort((a, b) => a.name.localeCompare(b.name));
