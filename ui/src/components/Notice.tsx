import type { ComponentChildren } from "preact";

/** An error (role=alert: read out when it appears) or a plain note. */
export function Notice({ kind = "error", children }: { kind?: "error" | "ok" | "info" | "warn"; children: ComponentChildren }) {
  return <div class={`notice notice-${kind}`} role={kind === "error" ? "alert" : "status"}>{children}</div>;
}

export const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
