/**
 * The live event stream: GET /1.0/events read with fetch and a streamed body, with the bearer
 * token in the Authorization header (never in the URL). Reconnects with a growing pause when the
 * connection drops; stops for good when the token is refused.
 */
import { SseParser } from "./sse.ts";

export type StreamState = "connecting" | "live" | "reconnecting" | "refused";

export interface EventStreamOptions {
  headers: Record<string, string>;
  onMessage(event: string, data: unknown): void;
  onState(state: StreamState, detail?: string): void;
}

export function openEventStream(opts: EventStreamOptions): () => void {
  const controller = new AbortController();
  let delayMs = 500;
  const run = async () => {
    while (!controller.signal.aborted) {
      try {
        const response = await fetch("/1.0/events", {
          headers: { ...opts.headers, Accept: "text/event-stream" },
          signal: controller.signal,
          cache: "no-store",
          credentials: "omit",
        });
        if (response.status === 401 || response.status === 403) {
          opts.onState("refused", `HTTP ${response.status}`);
          return;
        }
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        const parser = new SseParser();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const message of parser.push(value)) {
            if (message.event === "ready") {
              delayMs = 500;
              opts.onState("live");
            }
            let data: unknown = message.data;
            try {
              data = JSON.parse(message.data);
            } catch {
              // not JSON: handed on as text
            }
            opts.onMessage(message.event, data);
          }
        }
        throw new Error("the service closed the event stream");
      } catch (err) {
        if (controller.signal.aborted) return;
        opts.onState("reconnecting", err instanceof Error ? err.message : String(err));
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        delayMs = Math.min(delayMs * 2, 10_000);
      }
    }
  };
  opts.onState("connecting");
  void run();
  return () => controller.abort();
}
