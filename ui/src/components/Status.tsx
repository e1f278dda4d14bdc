/** Status as a coloured dot and a word (the word carries it for screen readers and colour-blind eyes). */
const TONES: Record<string, string> = {
  Online: "good", Running: "good", Success: "good",
  Offline: "bad", Error: "bad", Failure: "bad",
  Evacuating: "busy", Restoring: "busy", Pending: "idle", Unknown: "warn",
  Evacuated: "info", Stopped: "idle", Cancelled: "idle",
};

export function toneOf(status: string): string {
  return TONES[status] ?? "idle";
}

/** An operation's Running is work in progress (amber), not an instance's healthy Running (green). */
export function operationTone(status: string): string {
  return status === "Running" || status === "Pending" ? "busy" : toneOf(status);
}

export function Status({ status, message, tone }: { status: string; message?: string; tone?: string }) {
  return (
    <span class={`status tone-${tone ?? toneOf(status)}`} data-status={status}>
      <span class="dot" aria-hidden="true" />
      <span class="status-word">{status}</span>
      {message ? <span class="status-message">{message}</span> : null}
    </span>
  );
}
