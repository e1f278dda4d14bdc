/**
 * Where a time-out happened. QuickJS records a frame's position only when it calls something, so
 * an interrupt in a loop that calls nothing (`while (n >= 0) n += c.length;`) is reported at the
 * function's first line ("line 1:1"). Every loop body therefore starts with a call to a no-op
 * native function (`__berth_mark()`), inserted on the same line so line numbers stay; the columns
 * the insertions shift are mapped back (`original`). A source acorn cannot parse is left as it is:
 * QuickJS then reports its syntax error itself, at the right place.
 */
import { parse, type Node } from "acorn";

export const MARK_FUNCTION = "__berth_mark";
const MARK = `${MARK_FUNCTION}();`;

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
}

type AnyNode = Node & Record<string, unknown>;

export function markLoops(source: string): MarkedSource {
  let ast: Node;
  try {
    ast = parse(source, { ecmaVersion: "latest", sourceType: "script", allowReturnOutsideFunction: false });
  } catch {
    return { source, original: (line, column) => ({ line, column }) };
  }
  const insertions: Insertion[] = [];
  const visit = (node: AnyNode) => {
    if (LOOPS.has(node.type)) {
      const body = node.body as AnyNode;
      // A mark at the end too: reading a string's length (and perhaps more) leaves QuickJS's frame
      // position unset again, so an interrupt at the loop's back-edge after one named the
      // function's first line. The end mark is the last call before that back-edge.
      if (body.type === "BlockStatement") insertions.push({ at: body.start + 1, text: MARK }, { at: body.end - 1, text: `;${MARK}` });
      else insertions.push({ at: body.start, text: `{${MARK}` }, { at: body.end, text: `;${MARK}}` });
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
  if (insertions.length === 0) return { source, original: (line, column) => ({ line, column }) };
  insertions.sort((a, b) => a.at - b.at);

  // Build the marked source, and per line the (marked column, length) of each insertion.
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
