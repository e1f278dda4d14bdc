/**
 * A button that changes something. For a viewer it is disabled, with a tooltip saying why; it is
 * also disabled, with its reason, when the action does not apply (an evacuated member's Evacuate).
 */
import type { ComponentChildren } from "preact";
import { useSession } from "../context.ts";

export interface ActionProps {
  children: ComponentChildren;
  /** What the button does, for the viewer's tooltip: "Evacuating a member". */
  does: string;
  onClick?: () => void;
  /** Why it cannot be used now (null: it can). */
  unavailable?: string | null;
  kind?: "primary" | "danger" | "plain";
  type?: "button" | "submit";
  busy?: boolean;
  label?: string;
  small?: boolean;
}

export const viewerReason = (does: string) => `Read-only: you signed in with a viewer token. ${does} needs an admin token.`;

export function Action({ children, does, onClick, unavailable = null, kind = "plain", type = "button", busy = false, label, small }: ActionProps) {
  const { readOnly } = useSession();
  const why = readOnly ? viewerReason(does) : unavailable;
  const button = (
    <button
      type={type}
      class={`btn btn-${kind}${small ? " btn-small" : ""}`}
      onClick={why ? undefined : onClick}
      disabled={why !== null || busy}
      aria-busy={busy || undefined}
      aria-label={label}
      title={why ?? undefined}
      data-readonly={readOnly ? "true" : undefined}
    >
      {children}
    </button>
  );
  // A disabled button gets no pointer events in some browsers: the wrapper carries the tooltip too.
  return why ? <span class="btn-wrap" title={why}>{button}</span> : button;
}
