import { SketchPaths } from "./Sketch";
import { sketchEllipse, sketchLine, sketchRectangle } from "./rough";

export interface EmptyStateProps {
  /** A stable id: seeds the sketch so it looks the same on every render. */
  id: string;
  title: string;
  children?: React.ReactNode;
  action?: React.ReactNode;
}

/** Nothing to show yet: a small sketch, a title, a sentence and what to do. */
export function EmptyState({ id, title, children, action }: EmptyStateProps) {
  const paths = [
    ...sketchRectangle(`empty-box:${id}`, 8, 14, 80, 44, { stroke: "currentColor" }),
    ...sketchLine(`empty-line1:${id}`, 20, 28, 70, 28, { stroke: "currentColor", strokeWidth: 1.5 }),
    ...sketchLine(`empty-line2:${id}`, 20, 40, 56, 40, { stroke: "currentColor", strokeWidth: 1.5 }),
    ...sketchEllipse(`empty-dot:${id}`, 82, 12, 18, 18, {
      stroke: "currentColor",
      fill: "var(--ns-primary)",
      fillStyle: "solid",
    }),
  ];
  return (
    <div className="ns-empty">
      <svg className="ns-rough ns-empty__art" viewBox="0 0 100 64" aria-hidden="true">
        <SketchPaths paths={paths} />
      </svg>
      <p className="ns-empty__title">{title}</p>
      {children ? <p>{children}</p> : null}
      {action}
    </div>
  );
}
