/**
 * LXD's collection filter (`?filter=`, the api_filtering extension), with LXD's grammar: clauses
 * `[not] FIELD eq|ne VALUE`, joined by `and` / `or` and read from left to right with no
 * precedence and no parentheses (LXD has none either). A field is a dotted path into the object
 * (`status`, `location`, `config.limits.cpu`: after a map, the rest of the path is one key).
 * Values compare case-insensitively as anchored regular expressions (`web.*`), or as plain text
 * when they are not a valid one; `"quoted values"` may hold spaces. Beyond LXD: an unknown
 * operator is refused rather than read as `eq`, and numbers and booleans compare by their text
 * (`status_code eq 103`).
 */
import { badRequest } from "./errors.ts";

export interface FilterClause {
  /** How this clause joins the result so far (the first one: "and"). */
  join: "and" | "or";
  not: boolean;
  field: string;
  operator: "eq" | "ne";
  value: string;
}

const MAX_FILTER_LENGTH = 4096;

/** Parses a filter string; throws a 400 that quotes the filter and says what is wrong. */
export function parseFilter(text: string): FilterClause[] {
  const fail = (why: string) => badRequest(`Query parameter filter: ${why} in ${JSON.stringify(text.slice(0, 200))} (use e.g. "status eq running and location eq node1")`);
  if (text.length > MAX_FILTER_LENGTH) throw badRequest(`Query parameter filter is too long (${text.length} characters, at most ${MAX_FILTER_LENGTH})`);
  const parts = text.split(/\s+/).filter((p) => p !== "");
  const clauses: FilterClause[] = [];
  let join: "and" | "or" = "and";
  let i = 0;
  while (i < parts.length) {
    let not = false;
    if (parts[i].toLowerCase() === "not") {
      not = true;
      if (++i === parts.length) throw fail("incomplete not clause");
    }
    const field = parts[i++];
    if (i === parts.length) throw fail(`clause on "${field}" has no operator`);
    const operator = parts[i++];
    if (operator !== "eq" && operator !== "ne") throw fail(`unknown operator "${operator}" (use eq or ne)`);
    if (i === parts.length) throw fail(`clause on "${field}" has no value`);
    let value = parts[i];
    if (value.length > 1 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    else if (value.startsWith('"')) {
      const words = [value.slice(1)];
      do {
        if (++i === parts.length) throw fail("unterminated quote");
        words.push(parts[i]);
      } while (!parts[i].endsWith('"'));
      value = words.join(" ").slice(0, -1);
    }
    i++;
    clauses.push({ join, not, field, operator, value });
    if (i < parts.length) {
      const next = parts[i];
      if (next !== "and" && next !== "or") throw fail(`expected "and" or "or", got "${next}"`);
      join = next;
      if (++i === parts.length) throw fail(`nothing after "${next}"`);
    }
  }
  return clauses;
}

/** The value at a dotted path; after a map of strings, the rest of the path is one key (`config.limits.cpu`). */
export function valueAt(object: unknown, field: string): unknown {
  let current: unknown = object;
  const parts = field.split(".");
  for (let i = 0; i < parts.length; i++) {
    if (current === null || typeof current !== "object" || Array.isArray(current)) return undefined;
    const record = current as Record<string, unknown>;
    const rest = parts.slice(i).join(".");
    // A map whose values are all strings (config) takes the whole remaining path as its key.
    if (i > 0 && !(parts[i] in record) && rest in record) return record[rest];
    current = record[parts[i]];
  }
  return current;
}

function matchesValue(actual: unknown, wanted: string): boolean {
  if (actual === undefined || actual === null || typeof actual === "object") return false;
  const text = String(actual);
  if (typeof actual !== "string") return text === wanted;
  const pattern = wanted.includes("^") || wanted.includes("$") ? wanted : `^(?:${wanted})$`;
  try {
    return new RegExp(pattern, "i").test(text);
  } catch {
    return text.toLowerCase() === wanted.toLowerCase();
  }
}

/** Whether the object passes the clauses, joined from left to right. */
export function matchFilter(object: unknown, clauses: FilterClause[]): boolean {
  let result = true;
  for (const clause of clauses) {
    let match = matchesValue(valueAt(object, clause.field), clause.value);
    if (clause.operator === "ne") match = !match;
    if (clause.not) match = !match;
    result = clause.join === "and" ? result && match : result || match;
  }
  return result;
}
