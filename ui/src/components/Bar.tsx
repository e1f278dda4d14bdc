/** A usage bar: a meter with its numbers in words (aria-valuetext) and on screen. */
export function Bar({ name, label, value, max, text, title }: { name: string; label: string; value: number; max: number; text: string; title?: string }) {
  const fraction = max > 0 ? Math.min(value / max, 1) : 0;
  const over = max > 0 && value > max;
  const level = over || fraction >= 0.9 ? "high" : fraction >= 0.7 ? "mid" : "low";
  return (
    <div class="bar" title={title ?? text}>
      <span class="bar-name" aria-hidden="true">{name}</span>
      <div
        class={`bar-track level-${level}`}
        role="meter"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={max}
        aria-valuenow={Math.min(value, max)}
        aria-valuetext={text}
      >
        <div class="bar-fill" style={{ width: `${(fraction * 100).toFixed(1)}%` }} />
      </div>
      <span class="bar-text">{text}</span>
    </div>
  );
}
