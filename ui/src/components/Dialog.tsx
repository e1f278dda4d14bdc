/** A modal dialog (the native <dialog>: focus stays inside, Escape closes), titled for screen readers. */
import type { ComponentChildren } from "preact";
import { useEffect, useId, useRef } from "preact/hooks";

export function Dialog({ title, onClose, children, wide }: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  useEffect(() => {
    const dialog = ref.current!;
    if (!dialog.open) dialog.showModal();
    const cancel = (e: Event) => {
      e.preventDefault();
      onClose();
    };
    dialog.addEventListener("cancel", cancel);
    return () => dialog.removeEventListener("cancel", cancel);
  }, [onClose]);
  return (
    <dialog ref={ref} class={`dialog${wide ? " dialog-wide" : ""}`} aria-labelledby={id}>
      <header class="dialog-head">
        <h2 id={id}>{title}</h2>
        <button type="button" class="btn btn-plain btn-icon" aria-label="Close" onClick={onClose}>×</button>
      </header>
      <div class="dialog-body">{children}</div>
    </dialog>
  );
}
