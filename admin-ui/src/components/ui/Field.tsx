import { useId } from "react";
import { Icon } from "./Icon";

/** The ids a control needs to be labelled and described by its field. */
export interface FieldControlProps {
  id: string;
  "aria-describedby"?: string;
  "aria-invalid"?: true;
}

export interface FieldProps {
  label: React.ReactNode;
  hint?: React.ReactNode;
  /** One message or several; shown under the control and linked to it. */
  error?: React.ReactNode | React.ReactNode[];
  /** Advice that does not make the value invalid (shown and linked, without aria-invalid). */
  warning?: React.ReactNode | React.ReactNode[];
  /** A fixed id for the control (e.g. one an error summary links to). */
  id?: string;
  className?: string;
  children: (control: FieldControlProps) => React.ReactNode;
}

/** A label, a control, a hint and errors, wired together for assistive technology. */
export function Field({ label, hint, error, warning, id, className, children }: FieldProps) {
  const generated = useId();
  const controlId = id ?? `field-${generated}`;
  const hintId = `${controlId}-hint`;
  const errorId = `${controlId}-error`;
  const errors = (Array.isArray(error) ? error : error ? [error] : []).filter(Boolean);
  const warnings = (Array.isArray(warning) ? warning : warning ? [warning] : []).filter(Boolean);
  const warningId = `${controlId}-warning`;
  const describedBy = [hint ? hintId : null, errors.length > 0 ? errorId : null, warnings.length > 0 ? warningId : null]
    .filter(Boolean)
    .join(" ");
  return (
    <div className={className ? `ns-field ${className}` : "ns-field"}>
      <label className="ns-field__label" htmlFor={controlId}>{label}</label>
      {children({
        id: controlId,
        "aria-describedby": describedBy || undefined,
        "aria-invalid": errors.length > 0 ? true : undefined,
      })}
      {hint ? <span className="ns-field__hint" id={hintId}>{hint}</span> : null}
      {errors.length > 0
        ? (
          <span className="ns-field__error" id={errorId}>
            <Icon name="alert" size={16} />
            <span>
              {errors.map((message, index) => <span key={index} style={{ display: "block" }}>{message}</span>)}
            </span>
          </span>
        )
        : null}
      {warnings.length > 0
        ? (
          <span className="ns-field__warning" id={warningId}>
            <Icon name="info" size={16} />
            <span>
              {warnings.map((message, index) => <span key={index} style={{ display: "block" }}>{message}</span>)}
            </span>
          </span>
        )
        : null}
    </div>
  );
}
