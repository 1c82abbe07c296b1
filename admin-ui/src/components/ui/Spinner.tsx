/** A small spinning ring; static (dotted) under prefers-reduced-motion. Decorative: pair it with text. */
export function Spinner() {
  return <span className="ns-spinner" aria-hidden="true" />;
}
