import { Icon, type IconName } from "./Icon";

export interface StatusTextProps {
  tone: "success" | "warning" | "danger" | "info" | "neutral";
  icon: IconName;
  children: React.ReactNode;
}

/** A status word in its text colour (AA on paper and on night), always with an icon. */
export function StatusText({ tone, icon, children }: StatusTextProps) {
  return (
    <span className={`ns-status-text ns-status-text--${tone}`}>
      <Icon name={icon} size={16} />
      {children}
    </span>
  );
}
