export interface TableProps {
  /** Names the table (and its scroll region) for assistive technology. */
  label: string;
  /** Shows the label as a visible caption. */
  showCaption?: boolean;
  children: React.ReactNode;
}

/**
 * A crisp data table in a horizontally scrollable, keyboard-focusable region
 * (so it stays usable at 375 px).
 */
export function Table({ label, showCaption = false, children }: TableProps) {
  return (
    <div className="ns-table-wrap" role="region" aria-label={`${label} (table)`} tabIndex={0}>
      <table className="ns-table">
        <caption className={showCaption ? undefined : "ns-visually-hidden"}>{label}</caption>
        {children}
      </table>
    </div>
  );
}
