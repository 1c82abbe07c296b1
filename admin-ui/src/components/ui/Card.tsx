export interface CardProps {
  /** The heading; its level follows the page outline (default h2). */
  title?: React.ReactNode;
  headingLevel?: 2 | 3;
  description?: React.ReactNode;
  actions?: React.ReactNode;
  /** `hero` uses the large wobbly radius; `flat` drops the shadow (nested cards). */
  variant?: "default" | "hero" | "flat";
  id?: string;
  className?: string;
  children?: React.ReactNode;
  /** Names the card's section after its title, making it a region landmark. */
  region?: boolean;
}

/** A surface with an ink border, a wobbly radius and a hard shadow. */
export function Card({
  title,
  headingLevel = 2,
  description,
  actions,
  variant = "default",
  id,
  className,
  children,
  region = false,
}: CardProps) {
  const Heading = headingLevel === 2 ? "h2" : "h3";
  const headingId = id ? `${id}-title` : undefined;
  const classes = ["ns-card", variant !== "default" && `ns-card--${variant}`, className].filter(Boolean).join(" ");
  return (
    <section className={classes} id={id} aria-labelledby={region && title && headingId ? headingId : undefined}>
      {title || actions
        ? (
          <div className="ns-card__header">
            <div>
              {title ? <Heading className="ns-card__title" id={headingId}>{title}</Heading> : null}
              {description ? <p className="ns-card__description">{description}</p> : null}
            </div>
            {actions ? <div className="ns-button-row">{actions}</div> : null}
          </div>
        )
        : null}
      {children}
    </section>
  );
}
