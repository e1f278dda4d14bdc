/** The live event feed (lifecycle, operation, logging), newest first, as it streams in. */
import { useState } from "preact/hooks";
import type { BerthEvent, EventType } from "../../../src/domain/types.ts";
import type { FeedEvent } from "../cluster.ts";
import { useCluster } from "../context.ts";
import { when } from "../format.ts";

const TYPES: EventType[] = ["lifecycle", "operation", "logging"];

function scalars(map: unknown): string {
  if (!map || typeof map !== "object") return "";
  return Object.entries(map)
    .filter(([, v]) => v !== null && v !== undefined && v !== "" && typeof v !== "object")
    .map(([k, v]) => ` ${k}=${String(v)}`)
    .join("");
}

/** One line per event, as `berth monitor` prints it. */
export function summarize(event: BerthEvent): string {
  const m = event.metadata;
  if (event.type === "lifecycle") return `${String(m.action)} ${String(m.source ?? "")}${scalars(m.context)}`.trimEnd();
  if (event.type === "operation") {
    const progress = (m.metadata as Record<string, unknown> | undefined)?.evacuation_progress;
    const parts = [String(m.description ?? ""), "—", String(m.status ?? "")];
    if (typeof progress === "string") parts.push(`· ${progress}`);
    if (m.err) parts.push(`· ${String(m.err)}`);
    return parts.join(" ");
  }
  const { level, message, ...rest } = m;
  return `${String(level ?? "info")} ${String(message ?? "")}${scalars(rest)}${scalars(rest.context)}`;
}

export function EventsPage() {
  const { events, stream } = useCluster();
  const [types, setTypes] = useState<Set<EventType>>(new Set(TYPES));
  const [paused, setPaused] = useState<FeedEvent[] | null>(null);
  const shown = (paused ?? events).filter((e) => types.has(e.type));
  const toggle = (t: EventType) => {
    const next = new Set(types);
    if (next.has(t)) next.delete(t);
    else next.add(t);
    setTypes(next);
  };
  return (
    <div class="page">
      <header class="page-head">
        <h1>Events</h1>
        <p class="muted summary">Live from /1.0/events since you signed in (the last 500) · stream {stream}</p>
      </header>
      <div class="toolbar" role="group" aria-label="Event types">
        {TYPES.map((t) => (
          <label key={t} class="check"><input type="checkbox" checked={types.has(t)} onChange={() => toggle(t)} /> {t}</label>
        ))}
        <button type="button" class="btn btn-plain btn-small" aria-pressed={paused !== null} onClick={() => setPaused(paused ? null : events)}>
          {paused ? "Resume" : "Pause"}
        </button>
      </div>
      <ol class="feed" aria-label="Event feed" aria-live={paused ? "off" : "polite"}>
        {shown.map((e) => (
          <li key={e.seq} class={`feed-item feed-${e.type}`}>
            <time dateTime={e.timestamp} class="muted small mono">{when(e.timestamp)}</time>
            <span class={`tag tag-${e.type}`}>{e.type}</span>
            {e.project ? <span class="muted small">[{e.project}]</span> : null}
            <span class="feed-text">{summarize(e)}</span>
          </li>
        ))}
        {shown.length === 0 ? <li class="muted">No events yet. They appear here as they happen.</li> : null}
      </ol>
    </div>
  );
}
