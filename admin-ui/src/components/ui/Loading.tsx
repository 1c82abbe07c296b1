import { Spinner } from "./Spinner";

/** A loading state announced politely to screen readers. */
export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="ns-loading" role="status">
      <Spinner />
      <span>{label}</span>
    </div>
  );
}
