import { Icon, type IconName } from "./Icon";

export type Tone = "neutral" | "success" | "warning" | "danger" | "info" | "primary" | "accent" | "highlight";

export interface BadgeProps {
  tone?: Tone;
  /** An icon beside the word: status is never colour alone. */
  icon?: IconName;
  children: React.ReactNode;
  title?: string;
}

/** A word on a flat fill with an ink border. */
export function Badge({ tone = "neutral", icon, children, title }: BadgeProps) {
  return (
    <span className={tone === "neutral" ? "ns-badge" : `ns-badge ns-badge--${tone}`} title={title}>
      {icon ? <Icon name={icon} size={14} /> : null}
      {children}
    </span>
  );
}
