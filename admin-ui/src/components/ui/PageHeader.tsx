import { HeadingUnderline } from "./HeadingUnderline";

export interface PageHeaderProps {
  title: string;
  description?: React.ReactNode;
  actions?: React.ReactNode;
  /** Shown beside the title, e.g. a status badge. */
  meta?: React.ReactNode;
}

/** The page's h1 with its sketched underline, a description and the page actions. */
export function PageHeader({ title, description, actions, meta }: PageHeaderProps) {
  return (
    <header className="ns-page-header">
      <div>
        <div className="ns-inline ns-page-header__title">
          <div>
            <h1>{title}</h1>
            <HeadingUnderline id={title} />
          </div>
          {meta}
        </div>
        {description ? <p>{description}</p> : null}
      </div>
      {actions ? <div className="ns-button-row">{actions}</div> : null}
    </header>
  );
}
