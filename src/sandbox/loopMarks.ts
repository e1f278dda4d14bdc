/**
 * Where a time-out happened. QuickJS's own position of an interrupted frame is unreliable (it is
 * whatever the frame last recorded: in a loop that calls nothing, often the function's first line,
 * "line 1:1", and even with calls in the loop it depends on where the interrupt lands). Every loop
 * body therefore starts with `__berth_mark(K)`, K the loop's number, which notes K guest-side
 * (bootstrap.ts); after a time-out the host reads the last K and names that loop (`loops`). Marks
 * are inserted on the same line so line numbers stay; the columns they shift are mapped back
 * (`original`). A source acorn cannot parse is left as it is: QuickJS then reports its syntax
 * error itself, at the right place.
 */
import { parse, type Node } from "acorn";

export const MARK_FUNCTION = "__berth_mark";
const mark = (k: number) => `${MARK_FUNCTION}(${k});`;

const LOOPS = new Set(["WhileStatement", "DoWhileStatement", "ForStatement", "ForInStatement", "ForOfStatement"]);

interface Insertion {
  /** Offset in the original source the text goes before. */
  at: number;
  text: string;
}

export interface MarkedSource {
  source: string;
  /** Maps a (1-based line, 1-based column) of the marked source to the original's. */
  original(line: number, column: number): { line: number; column: number };
  /** Where loop K (1-based, as its mark says) starts in the original source. */
  loops: { line: number; column: number }[];
}

type AnyNode = Node & Record<string, unknown>;

export function markLoops(source: string): MarkedSource {
  let ast: Node;
  try {
    ast = parse(source, { ecmaVersion: "latest", sourceType: "script", allowReturnOutsideFunction: false });
  } catch {
    return { source, original: (line, column) => ({ line, column }), loops: [] };
  }
  const lineStarts = [0];
  for (let i = 0; i < source.length; i++) if (source[i] === "\n") lineStarts.push(i + 1);
  const lineOf = (offset: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const position = (offset: number) => {
    const line = lineOf(offset);
    return { line: line + 1, column: offset - lineStarts[line] + 1 };
  };
  const loops: { line: number; column: number }[] = [];
  const insertions: Insertion[] = [];
  const visit = (node: AnyNode) => {
    if (LOOPS.has(node.type)) {
      const body = node.body as AnyNode;
      loops.push(position(node.start as number));
      const k = loops.length;
      if (body.type === "BlockStatement") insertions.push({ at: body.start + 1, text: mark(k) });
      else insertions.push({ at: body.start, text: `{${mark(k)}` }, { at: body.end, text: "}" });
    }
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) {
        for (const item of value) if (item && typeof item === "object" && typeof (item as AnyNode).type === "string") visit(item as AnyNode);
      } else if (value && typeof value === "object" && typeof (value as AnyNode).type === "string") {
        visit(value as AnyNode);
      }
    }
  };
  visit(ast as AnyNode);
  if (insertions.length === 0) return { source, original: (line, column) => ({ line, column }), loops };
  insertions.sort((a, b) => a.at - b.at);

  // Per line the (marked column, length) of each insertion.
  const shifts = new Map<number, { markedColumn: number; length: number }[]>();
  let out = "";
  let last = 0;
  let shiftOnLine = 0;
  let currentLine = -1;
  for (const ins of insertions) {
    out += source.slice(last, ins.at);
    last = ins.at;
    const line = lineOf(ins.at);
    if (line !== currentLine) {
      currentLine = line;
      shiftOnLine = 0;
    }
    const markedColumn = ins.at - lineStarts[line] + shiftOnLine + 1; // 1-based column where the text starts
    const list = shifts.get(line + 1) ?? [];
    list.push({ markedColumn, length: ins.text.length });
    shifts.set(line + 1, list);
    shiftOnLine += ins.text.length;
    out += ins.text;
  }
  out += source.slice(last);
  return {
    source: out,
    loops,
    original(line, column) {
      let shift = 0;
      for (const s of shifts.get(line) ?? []) {
        if (column >= s.markedColumn + s.length) shift += s.length;
        else if (column >= s.markedColumn) return { line, column: s.markedColumn - shift }; // inside our text: where it was put
      }
      return { line, column: column - shift };
    },
  };
}
