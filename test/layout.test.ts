/** The dependency rules of STYLE.md, checked on the source: a wrong import fails here, not in review. */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = new URL("../src/", import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^;]*?from\s+"([^"]+)"/g), ...text.matchAll(/import\("([^"]+)"\)/g)].map((m) => m[1]);
}

/** folder → what it must not import (package names, or our folders as "@/folder"). */
const RULES: Record<string, string[]> = {
  domain: ["@/scheduler", "@/sandbox", "@/store", "@/cluster", "@/members", "@/operations", "@/api", "@/cli", "@/placement", "@/events", "@/agent", "node:fs", "node:http"],
  scheduler: ["@/sandbox", "@/store", "@/cluster", "@/members", "@/operations", "@/api", "@/cli", "@/placement", "@/events", "@/agent", "hono", "drizzle-orm", "better-sqlite3", "pg", "node:fs", "node:http"],
  sandbox: ["@/scheduler", "@/store", "@/cluster", "@/members", "@/operations", "@/api", "@/cli", "@/placement", "@/events", "@/agent", "hono", "drizzle-orm", "better-sqlite3", "pg", "node:fs", "node:http"],
  net: ["@/scheduler", "@/sandbox", "@/store", "@/cluster", "@/members", "@/operations", "@/api", "@/cli", "@/placement", "@/events", "@/agent", "hono", "drizzle-orm", "better-sqlite3", "pg"],
  placement: ["@/api", "@/cli", "@/members", "@/agent", "hono", "drizzle-orm", "better-sqlite3", "pg"],
  cluster: ["@/api", "@/cli", "@/agent", "hono", "drizzle-orm", "better-sqlite3", "pg"],
  members: ["@/api", "@/cli", "@/agent", "hono", "drizzle-orm", "better-sqlite3", "pg"],
  operations: ["@/api", "@/cli", "@/agent", "hono", "drizzle-orm", "better-sqlite3", "pg"],
  api: ["@/cli", "@/agent", "drizzle-orm", "better-sqlite3", "pg"],
  cli: ["drizzle-orm", "better-sqlite3", "pg"],
  // The agent runs on members, apart from the service: it speaks HTTP(S) to it (src/net) and shares
  // only domain types and the machine probe (members/localMember.ts, checked below).
  agent: ["@/scheduler", "@/sandbox", "@/store", "@/cluster", "@/operations", "@/api", "@/cli", "@/placement", "@/events", "hono", "drizzle-orm", "better-sqlite3", "pg"],
};

function target(file: string, spec: string): string {
  if (!spec.startsWith(".")) return spec;
  const resolved = relative(SRC, join(file, "..", spec));
  return resolved.startsWith("..") ? resolved : `@/${resolved.split("/")[0]}`;
}

describe("layout", () => {
  it.each(Object.keys(RULES))("src/%s imports only what it may", (folder) => {
    const offending: string[] = [];
    for (const file of files(join(SRC, folder))) {
      for (const spec of importsOf(file)) {
        const to = target(file, spec);
        if (RULES[folder].some((banned) => to === banned || to.startsWith(`${banned}/`))) offending.push(`${relative(SRC, file)} → ${spec}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it("src/agent takes from src/members only the machine probe (localMember.ts)", () => {
    const offending: string[] = [];
    for (const file of files(join(SRC, "agent"))) {
      for (const spec of importsOf(file)) {
        const to = relative(SRC, join(file, "..", spec));
        if (spec.startsWith(".") && to.startsWith("members/") && to !== "members/localMember.ts") offending.push(`${relative(SRC, file)} → ${spec}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it("only src/store imports drizzle-orm, better-sqlite3 or pg; services know only the Store interface, and main.ts alone picks the implementation", () => {
    const offending: string[] = [];
    for (const file of files(SRC)) {
      const rel = relative(SRC, file);
      if (rel.startsWith("store/")) continue;
      for (const spec of importsOf(file)) {
        if (spec.startsWith("drizzle-orm") || spec === "better-sqlite3" || spec === "pg") offending.push(`${rel} → ${spec}`);
        // store/store.ts is the interface (and its error type); anything else in store/ is an implementation.
        if (/(^|\/)store\/(?!store\.ts$).+$/.test(spec) && rel !== "main.ts") offending.push(`${rel} → ${spec} (an implementation)`);
      }
    }
    expect(offending).toEqual([]);
  });
});
