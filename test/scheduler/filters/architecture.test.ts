import { describe, expect, it } from "vitest";
import { cluster, decide, member, request } from "../fixtures.ts";

describe("architecture filter (personalities)", () => {
  const view = cluster(
    member("x64").arch("x86_64"), member("x32").arch("i686"), member("arm64").arch("aarch64"),
    member("arm32").arch("armv7l"), member("ppc").arch("ppc64le"),
  );

  it.each<[string, string[]]>([
    ["x86_64", ["x64"]],
    ["i686", ["x32", "x64"]], // x86_64 also runs i686
    ["aarch64", ["arm64"]],
    ["armv7l", ["arm32", "arm64"]], // aarch64 also runs armv7l
    ["ppc64le", ["ppc"]],
    ["amd64", ["x64"]], // Debian alias of x86_64
    ["arm64", ["arm64"]], // Debian alias of aarch64
    ["riscv64", []], // nobody runs it
    ["", ["arm32", "arm64", "ppc", "x32", "x64"]], // empty = any
  ])("an %j instance may go to %j", (arch, expected) => {
    expect(decide(view, request().arch(arch)).candidates.sort()).toEqual(expected);
  });

  it("a 32-bit host never runs the 64-bit architecture", () => {
    const { rejected } = decide(view, request().arch("x86_64"));
    expect(rejected.x32).toBe("architecture: member is i686 and cannot run x86_64");
    expect(rejected.arm64).toBe("architecture: member is aarch64 and cannot run x86_64");
  });
});
