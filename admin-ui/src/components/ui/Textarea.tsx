import type { Ref, TextareaHTMLAttributes } from "react";

export interface TextareaProps extends TextareaHTMLAttributes<HTMLTextAreaElement> {
  /** Monospaced, no wrapping: for JSON. */
  code?: boolean;
  ref?: Ref<HTMLTextAreaElement>;
}

export function Textarea({ className, code = false, ref, ...rest }: TextareaProps) {
  const classes = ["ns-textarea", code && "ns-textarea--code", className].filter(Boolean).join(" ");
  return <textarea ref={ref} className={classes} spellCheck={code ? false : undefined} {...rest} />;
}
