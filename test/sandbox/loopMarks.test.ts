import { describe, expect, it } from "vitest";
import { markLoops, MARK_FUNCTION } from "../../src/sandbox/loopMarks.ts";

describe("loop marks", () => {
  it("puts a numbered mark at the top of every loop body on the same line, knows where each loop is, and maps columns back", () => {
    const source = "for (const m of c) if (m.x) n++;\nwhile (a) { b(); }\ndo x(); while (y);";
    const marked = markLoops(source);
    expect(marked.source.split("\n")).toEqual([
      `for (const m of c) {${MARK_FUNCTION}(1);if (m.x) n++;}`,
      `while (a) {${MARK_FUNCTION}(2); b(); }`,
      `do {${MARK_FUNCTION}(3);x();} while (y);`,
    ]);
    expect(marked.loops).toEqual([{ line: 1, column: 1 }, { line: 2, column: 1 }, { line: 3, column: 1 }]);
    // Line 2: "b" is at column 13 in the original, 13 + 16 in the marked source.
    expect(marked.original(2, 13 + MARK_FUNCTION.length + 4)).toEqual({ line: 2, column: 13 });
    // Before the insertion nothing moves; inside it, the position is where it was put.
    expect(marked.original(2, 1)).toEqual({ line: 2, column: 1 });
    expect(marked.original(2, 14)).toEqual({ line: 2, column: 12 });
    // Line 3: "while" after two insertions ({mark; and }).
    expect(marked.original(3, marked.source.split("\n")[2].indexOf("while") + 1)).toEqual({ line: 3, column: source.split("\n")[2].indexOf("while") + 1 });
  });

  it("a time-out names the loop the code was in last, wherever QuickJS's interrupt landed", async () => {
    const { ScriptletSandbox } = await import("../../src/sandbox/sandbox.ts");
    const { request } = await import("./fixtures.ts");
    const { smallCluster, ALL } = await import("./support.ts");
    const sb = new ScriptletSandbox({ timeoutMs: 300, memoryMb: 32, poolSize: 1 });
    try {
      sb.reset(smallCluster());
      await sb.ready();
      const head = "// a comment\nfunction instance_placement(request, candidate_members) {\n  let n = 0;\n";
      for (const loop of ["while (n >= 0) { n = n + request.name.length; }", "while (true) {}", "for (;;) n++;"]) {
        const outcome = await sb.test(`${head}  for (let i = 0; i < 3; i++) n++;\n  ${loop}\n}`, request("c1"), ALL);
        expect(outcome.error, loop).toMatch(/time limit of 300 ms \(line 5:3\)/);
      }
      // Top-level code too.
      await expect(sb.test(`let k = 0;\nwhile (k >= 0) k++;\nfunction instance_placement(r, c) {}`, request("c1"), ALL)).rejects.toThrow(/time limit of 300 ms \(line 2:1\)/);
    } finally {
      await sb.close();
    }
  });

  it("leaves a source it cannot parse, or one without loops, as it is", () => {
    for (const source of ["function f( {", "function instance_placement(a, b) { return 1; }"]) {
      const marked = markLoops(source);
      expect(marked.source).toBe(source);
      expect(marked.loops).toEqual([]);
      expect(marked.original(1, 5)).toEqual({ line: 1, column: 5 });
    }
  });
});
