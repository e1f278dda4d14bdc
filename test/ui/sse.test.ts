/** The dashboard's Server-Sent Events parser (it reads /1.0/events from a fetch body, in whatever chunks arrive). */
import { describe, expect, it } from "vitest";
import { SseParser } from "../../ui/src/sse.ts";

describe("SseParser", () => {
  it("parses Berth's stream: ready, events, keepalive comments", () => {
    const p = new SseParser();
    const text = 'event: ready\ndata: {"types":["lifecycle"]}\n\n: keepalive\n\nevent: lifecycle\ndata: {"type":"lifecycle"}\n\n';
    expect(p.push(text)).toEqual([
      { event: "ready", data: '{"types":["lifecycle"]}' },
      { event: "lifecycle", data: '{"type":"lifecycle"}' },
    ]);
  });

  it("joins a message split anywhere across chunks, CRLF included", () => {
    const text = "event: operation\r\ndata: {\"a\":1}\r\n\r\nevent: logging\r\ndata: x\r\n\r\n";
    for (let cut = 1; cut < text.length; cut++) {
      const p = new SseParser();
      const messages = [...p.push(text.slice(0, cut)), ...p.push(text.slice(cut))];
      expect(messages, `cut at ${cut}`).toEqual([{ event: "operation", data: '{"a":1}' }, { event: "logging", data: "x" }]);
    }
  });

  it("joins multi-line data with newlines; a message without event is a 'message'; no data, no message", () => {
    const p = new SseParser();
    expect(p.push("data: one\ndata:two\n\nevent: empty\n\n")).toEqual([{ event: "message", data: "one\ntwo" }]);
  });

  it("holds an unfinished message until its blank line arrives", () => {
    const p = new SseParser();
    expect(p.push("event: lifecycle\ndata: {}\n")).toEqual([]);
    expect(p.push("\n")).toEqual([{ event: "lifecycle", data: "{}" }]);
  });
});
