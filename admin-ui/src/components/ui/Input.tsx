import type { InputHTMLAttributes, Ref } from "react";

/** A crisp text input (forms stay clean: no hand-drawn strokes). */
export function Input({ className, ref, ...rest }: InputHTMLAttributes<HTMLInputElement> & { ref?: Ref<HTMLInputElement> }) {
  return <input ref={ref} className={className ? `ns-input ${className}` : "ns-input"} {...rest} />;
}
