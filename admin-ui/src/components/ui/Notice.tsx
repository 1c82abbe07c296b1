import { Icon, type IconName } from "./Icon";

export interface NoticeProps {
  tone?: "info" | "success" | "warning" | "danger";
  title?: string;
  children?: React.ReactNode;
  action?: React.ReactNode;
  /** Announce at once (errors that appear after an action). */
  live?: boolean;
}

const ICONS: Record<NonNullable<NoticeProps["tone"]>, IconName> = {
  info: "info",
  success: "check",
  warning: "alert",
  danger: "x",
};

/** An inline message with an icon, a coloured edge and, for errors, a way out. */
export function Notice({ tone = "info", title, children, action, live = false }: NoticeProps) {
  return (
    <div className={`ns-notice ns-notice--${tone}`} role={live ? (tone === "danger" ? "alert" : "status") : undefined}>
      <Icon name={ICONS[tone]} />
      <div className="ns-notice__body">
        {title ? <p><strong>{title}</strong></p> : null}
        {children}
      </div>
      {action}
    </div>
  );
}
