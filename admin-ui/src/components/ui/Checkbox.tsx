import type { InputHTMLAttributes } from "react";

/** A native checkbox with its label beside it. */
export function Checkbox({ label, ...rest }: Omit<InputHTMLAttributes<HTMLInputElement>, "type"> & { label: React.ReactNode }) {
  return (
    <label className="ns-checkbox">
      <input type="checkbox" {...rest} />
      <span>{label}</span>
    </label>
  );
}
