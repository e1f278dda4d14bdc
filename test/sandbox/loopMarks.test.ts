import { describe, expect, it } from "vitest";
import { markLoops, MARK_FUNCTION } from "../../src/sandbox/loopMarks.ts";

describe("loop marks", () => {
  it("puts a call at the top and at the end of every loop body on the same line, and maps columns back", () => {
    const source = "for (const m of c) if (m.x) n++;\nwhile (a) { b(); }\ndo x(); while (y);";
    const marked = markLoops(source);
    expect(marked.source.split("\n")).toEqual([
      `for (const m of c) {${MARK_FUNCTION}();if (m.x) n++;;${MARK_FUNCTION}();}`,
      `while (a) {${MARK_FUNCTION}(); b(); ;${MARK_FUNCTION}();}`,
      `do {${MARK_FUNCTION}();x();;${MARK_FUNCTION}();} while (y);`,
    ]);
    // Line 2: "b" is at column 13 in the original, 13 + 15 in the marked source.
    expect(marked.original(2, 13 + MARK_FUNCTION.length + 3)).toEqual({ line: 2, column: 13 });
    // Before the insertion nothing moves; inside it, the position is where it was put.
    expect(marked.original(2, 1)).toEqual({ line: 2, column: 1 });
    expect(marked.original(2, 14)).toEqual({ line: 2, column: 12 });
    // Line 3: "while" after two insertions ({mark; and ;mark}).
    expect(marked.original(3, marked.source.split("\n")[2].indexOf("while") + 1)).toEqual({ line: 3, column: source.split("\n")[2].indexOf("while") + 1 });
  });

  it("leaves a source it cannot parse, or one without loops, as it is", () => {
    for (const source of ["function f( {", "function instance_placement(a, b) { return 1; }"]) {
      const marked = markLoops(source);
      expect(marked.source).toBe(source);
      expect(marked.original(1, 5)).toEqual({ line: 1, column: 5 });
    }
  });
});
