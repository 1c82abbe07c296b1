import type { ButtonHTMLAttributes, Ref } from "react";
import { Icon, type IconName } from "./Icon";
import { Spinner } from "./Spinner";

export type ButtonVariant = "primary" | "secondary" | "danger" | "ghost";

export interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: ButtonVariant;
  size?: "md" | "sm";
  icon?: IconName;
  /** Shows a spinner, sets aria-busy and disables the button while an action runs. */
  loading?: boolean;
  ref?: Ref<HTMLButtonElement>;
}

/** A button: a flat fill, an ink border and a hard shadow that the press removes. */
export function Button({
  variant = "primary",
  size = "md",
  icon,
  loading = false,
  className,
  children,
  disabled,
  type = "button",
  ...rest
}: ButtonProps) {
  return (
    <button
      type={type}
      className={buttonClass(variant, size, className)}
      disabled={disabled || loading}
      aria-busy={loading || undefined}
      {...rest}
    >
      {loading ? <Spinner /> : icon ? <Icon name={icon} /> : null}
      {children}
    </button>
  );
}

/** The class list of a button, for links styled as buttons. */
export function buttonClass(variant: ButtonVariant = "primary", size: "md" | "sm" = "md", extra?: string): string {
  return ["ns-button", variant !== "primary" && `ns-button--${variant}`, size === "sm" && "ns-button--sm", extra]
    .filter(Boolean)
    .join(" ");
}
