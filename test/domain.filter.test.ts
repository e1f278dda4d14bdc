import { describe, expect, it } from "vitest";
import { matchFilter, parseFilter, valueAt } from "../src/domain/filter.ts";

const web = { name: "web1", status: "Running", status_code: 103, location: "n1", config: { "limits.cpu": "2", "user.role": "front end" }, state: { status: "Running" } };
const db = { name: "db1", status: "Stopped", status_code: 102, location: "n2", config: { "limits.cpu": "4" }, state: { status: "Stopped" } };
const all = [web, db];
const names = (filter: string) => all.filter((i) => matchFilter(i, parseFilter(filter))).map((i) => i.name);

describe("LXD filters", () => {
  it.each([
    // [filter, names that pass] — worked out by hand from the two objects above
    ["status eq running", ["web1"]], // case-insensitive
    ["status ne running", ["db1"]],
    ["not status eq running", ["db1"]],
    ["location eq n1 or location eq n2", ["web1", "db1"]],
    ["status eq running and location eq n2", []],
    // Left to right, no precedence: (web or db) and n2 → db1 only; LXD reads it the same way.
    ["name eq web1 or name eq db1 and location eq n2", ["db1"]],
    ["name eq web.*", ["web1"]], // a regular expression, anchored
    ["name eq eb", []], // anchored: no substring match
    ["name eq ^w", ["web1"]], // ^ or $ given: not anchored further
    ["config.limits.cpu eq 4", ["db1"]], // the rest of the path after a map is one key
    ['config.user.role eq "front end"', ["web1"]], // a quoted value with a space
    ['name eq "db1"', ["db1"]],
    ["state.status eq stopped", ["db1"]],
    ["status_code eq 103", ["web1"]], // numbers compare by their text (beyond LXD)
    ["nosuchfield eq x", []],
    ["name eq [", []], // not a valid expression: compared as text
  ])("%s", (filter, expected) => {
    expect(names(filter)).toEqual(expected);
  });

  it.each([
    ["status", "has no operator"],
    ["status eq", "has no value"],
    ["not", "incomplete not"],
    ["status gt 1", 'unknown operator "gt"'],
    ["status eq running xor name eq a", 'expected "and" or "or"'],
    ["status eq running and", 'nothing after "and"'],
    ['name eq "open', "unterminated quote"],
  ])("refuses %j", (filter, message) => {
    expect(() => parseFilter(filter)).toThrow(message);
  });

  it("reads dotted paths through objects and into maps", () => {
    expect(valueAt(web, "config.limits.cpu")).toBe("2");
    expect(valueAt(web, "state.status")).toBe("Running");
    expect(valueAt(web, "name.length")).toBeUndefined();
  });
});
