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

export function Status({ status, message }: { status: string; message?: string }) {
  return (
    <span class={`status tone-${toneOf(status)}`} data-status={status}>
      <span class="dot" aria-hidden="true" />
      <span class="status-word">{status}</span>
      {message ? <span class="status-message">{message}</span> : null}
    </span>
  );
}
