/** /1.0/events: Server-Sent Events, filtered by ?type=lifecycle,operation,logging and ?project=. */
import type { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { badRequest } from "../../domain/errors.ts";
import type { BerthEvent, EventType } from "../../domain/types.ts";
import type { Services } from "../services.ts";
import type { AuthEnv } from "../auth.ts";

const TYPES: readonly EventType[] = ["lifecycle", "operation", "logging"];
const KEEPALIVE_MS = 15_000;
const MAX_QUEUE = 10_000;

export function eventRoutes(app: Hono<AuthEnv>, s: Services): void {
  app.get("/1.0/events", (c) => {
    const raw = c.req.query("type");
    const types = new Set<EventType>(raw ? (raw.split(",") as EventType[]) : TYPES);
    for (const t of types) if (!TYPES.includes(t)) throw badRequest(`Query parameter type: unknown event type ${JSON.stringify(t)} (use ${TYPES.join(", ")})`);
    const project = c.req.query("project");
    return streamSSE(c, async (stream) => {
      const queue: BerthEvent[] = [];
      let wake: (() => void) | null = null;
      let dropped = 0;
      const unsubscribe = s.bus.subscribe((event) => {
        if (!types.has(event.type)) return;
        if (project && event.project !== undefined && event.project !== project) return;
        if (queue.length >= MAX_QUEUE) { dropped++; return; } // a slow reader must not grow memory without bound
        queue.push(event);
        wake?.();
      });
      const keepalive = setInterval(() => wake?.(), KEEPALIVE_MS);
      stream.onAbort(() => {
        unsubscribe();
        clearInterval(keepalive);
        wake?.();
      });
      try {
        await stream.writeSSE({ event: "ready", data: JSON.stringify({ types: [...types] }) });
        while (!stream.aborted) {
          if (queue.length === 0) {
            await new Promise<void>((resolve) => { wake = resolve; });
            wake = null;
            if (queue.length === 0 && !stream.aborted) await stream.write(": keepalive\n\n");
            continue;
          }
          if (dropped > 0) {
            await stream.writeSSE({ event: "dropped", data: JSON.stringify({ dropped }) });
            dropped = 0;
          }
          const event = queue.shift()!;
          await stream.writeSSE({ event: event.type, data: JSON.stringify(event) });
        }
      } finally {
        unsubscribe();
        clearInterval(keepalive);
      }
    });
  });
}
