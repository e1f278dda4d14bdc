import { describe, expect, it } from "vitest";
import { formatSize, parseSize } from "../src/domain/units.ts";

describe("sizes", () => {
  it.each([
    ["512MiB", 512 * 1024 ** 2],
    ["2GiB", 2 * 1024 ** 3],
    ["10GB", 10e9],
    ["1024", 1024],
    ["1.5GiB", 1.5 * 1024 ** 3],
  ])("parses %s", (text, bytes) => expect(parseSize(text)).toBe(bytes));
  it.each(["", "GiB", "-1GiB", "2 parsecs", "1e9"])("rejects %j", (text) => expect(parseSize(text)).toBeNull());
  it("formats", () => {
    expect(formatSize(2 * 1024 ** 3)).toBe("2GiB");
    expect(formatSize(1536 * 1024 ** 2)).toBe("1.5GiB");
    expect(formatSize(100)).toBe("100B");
  });
});
