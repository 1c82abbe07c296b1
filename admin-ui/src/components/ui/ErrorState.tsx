import { describeError } from "@/lib/api";
import { Button } from "./Button";
import { Notice } from "./Notice";

/** A failed load: what went wrong and a retry. */
export function ErrorState({ error, onRetry, what = "this" }: { error: unknown; onRetry?: () => void; what?: string }) {
  return (
    <Notice
      tone="danger"
      title={`Could not load ${what}`}
      live
      action={onRetry ? <Button variant="secondary" size="sm" icon="restart" onClick={onRetry}>Retry</Button> : null}
    >
      <p>{describeError(error)}</p>
    </Notice>
  );
}
