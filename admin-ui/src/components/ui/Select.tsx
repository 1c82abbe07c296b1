import type { Ref, SelectHTMLAttributes } from "react";

/** A native select, styled like the inputs. */
export function Select({ className, ref, ...rest }: SelectHTMLAttributes<HTMLSelectElement> & { ref?: Ref<HTMLSelectElement> }) {
  return <select ref={ref} className={className ? `ns-select ${className}` : "ns-select"} {...rest} />;
}
