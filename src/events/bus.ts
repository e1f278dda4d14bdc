/** In-process event bus behind /1.0/events: lifecycle, operation and logging events. */
import type { BerthEvent, EventType } from "../domain/types.ts";

export type EventListener = (event: BerthEvent) => void;

export class EventBus {
  private readonly listeners = new Set<EventListener>();
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly onListenerError: (err: unknown, event: BerthEvent) => void = () => {},
  ) {}

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  emit(type: EventType, metadata: Record<string, unknown>, project?: string): void {
    const key = type === "lifecycle" ? String(metadata.action) : type;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    if (this.listeners.size === 0) return;
    const event: BerthEvent = { type, timestamp: new Date(this.now()).toISOString(), metadata };
    if (project !== undefined) event.project = project;
    this.deliver(event);
  }

  /** Delivers an event (this replica's, or as another replica emitted it, with its timestamp) to this bus's subscribers. */
  deliver(event: BerthEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        // A broken subscriber must not break the emitter (nor the write that emitted): it is
        // dropped, and the failure reported.
        this.listeners.delete(listener);
        this.onListenerError(err, event);
      }
    }
  }

  /** A lifecycle event in LXD's shape: {action, source, context}. */
  lifecycle(action: string, source: string, context: Record<string, unknown> = {}, project?: string): void {
    this.emit("lifecycle", { action, source, context }, project);
  }

  /** How many events of each kind were emitted (for metrics). */
  emittedCounts(): ReadonlyMap<string, number> {
    return this.counts;
  }
}
