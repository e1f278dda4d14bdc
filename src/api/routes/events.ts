/**
 * GET /1.0/events, two ways:
 * - an RFC 6455 websocket (an upgrade request, what LXD clients open): one text frame per event in
 *   LXD's api.Event JSON, filtered as LXD does (no ?project= means the default project);
 * - otherwise Server-Sent Events (clients ask for text/event-stream), Berth's own stream: every
 *   project unless ?project= names one.
 * Both honour ?type=lifecycle,operation,logging, ?project= and ?all-projects=true. An event that
 * belongs to no project (members, operations, server config) reaches every listener, as in LXD.
 */
import { upgradeWebSocket, type WebSocketLike } from "@hono/node-server";
import type { Context, Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { badRequest } from "../../domain/errors.ts";
import type { BerthEvent, EventType } from "../../domain/types.ts";
import type { Services } from "../services.ts";
import type { AuthEnv } from "../auth.ts";
import { queryBool } from "../validation.ts";
import { projectOf } from "./instances.ts";

const TYPES: readonly EventType[] = ["lifecycle", "operation", "logging"];
const KEEPALIVE_MS = 15_000;
const MAX_QUEUE = 10_000;
/** A websocket reader this far behind is closed rather than buffered for without bound. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/** LXD's api.Event: the event, with the member that produced it. */
export interface ApiEvent extends BerthEvent {
  location: string;
}

interface Selection {
  types: Set<EventType>;
  /** undefined: every project. */
  project: string | undefined;
}

function select(c: Context<AuthEnv>, s: Services, lxdDefaults: boolean): Selection {
  const raw = c.req.query("type");
  const types = new Set<EventType>(raw ? (raw.split(",") as EventType[]) : TYPES);
  for (const t of types) if (!TYPES.includes(t)) throw badRequest(`Query parameter type: unknown event type ${JSON.stringify(t)} (use ${TYPES.join(", ")})`);
  const all = queryBool(c, "all-projects");
  const named = c.req.query("project");
  if (all && named) throw badRequest("Use either project or all-projects=true, not both");
  if (all || (!named && !lxdDefaults)) return { types, project: undefined };
  const project = projectOf(c);
  s.projects.get(project); // 404 for a project that does not exist, as LXD
  return { types, project };
}

function accepts(selection: Selection, event: BerthEvent): boolean {
  if (!selection.types.has(event.type)) return false;
  return selection.project === undefined || event.project === undefined || event.project === selection.project;
}

export function eventRoutes(app: Hono<AuthEnv>, s: Services, location: string): void {
  const toApi = (event: BerthEvent): ApiEvent => ({ ...event, location });

  const websocket = upgradeWebSocket((c) => {
    const selection = select(c, s, true);
    let unsubscribe = () => {};
    let keepalive: NodeJS.Timeout | undefined;
    const stop = () => {
      unsubscribe();
      clearInterval(keepalive);
    };
    return {
      onOpen(_event, ws) {
        const raw = ws.raw as WebSocketLike & { bufferedAmount: number; ping(): void };
        unsubscribe = s.bus.subscribe((event) => {
          if (!accepts(selection, event) || raw.readyState !== 1) return;
          if (raw.bufferedAmount > MAX_BUFFERED_BYTES) {
            stop();
            raw.close(1008, "Event listener too slow: it fell more than 16 MiB behind");
            return;
          }
          raw.send(JSON.stringify(toApi(event)));
        });
        keepalive = setInterval(() => raw.ping(), KEEPALIVE_MS);
        keepalive.unref();
      },
      onClose: stop,
      onError: stop,
      // Frames a client sends (LXD members forward events this way) are not for Berth: ignored.
    };
  });

  app.get("/1.0/events", websocket, (c) => {
    const selection = select(c, s, false);
    return streamSSE(c, async (stream) => {
      const queue: BerthEvent[] = [];
      let wake: (() => void) | null = null;
      let dropped = 0;
      const unsubscribe = s.bus.subscribe((event) => {
        if (!accepts(selection, event)) return;
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
        await stream.writeSSE({ event: "ready", data: JSON.stringify({ types: [...selection.types] }) });
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
          await stream.writeSSE({ event: event.type, data: JSON.stringify(toApi(event)) });
        }
      } finally {
        unsubscribe();
        clearInterval(keepalive);
      }
    });
  });
}
