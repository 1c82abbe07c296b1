"use client";
import { createContext, useCallback, useContext, useMemo, useRef, useState } from "react";
import { Button } from "./Button";
import { Icon } from "./Icon";

export interface ToastInput {
  tone?: "success" | "danger" | "info";
  message: string;
}

interface ToastItem extends Required<ToastInput> {
  id: number;
}

interface ToastContextValue {
  show(toast: ToastInput): void;
}

const ToastContext = createContext<ToastContextValue | null>(null);

/**
 * Feedback for every action: a polite live region (an assertive one for
 * failures) of toasts that dismiss themselves after 6 s, or on demand.
 */
export function ToastProvider({ children }: { children: React.ReactNode }) {
  const [toasts, setToasts] = useState<ToastItem[]>([]);
  const nextId = useRef(1);
  const dismiss = useCallback((id: number) => setToasts((list) => list.filter((toast) => toast.id !== id)), []);
  const show = useCallback((toast: ToastInput) => {
    const id = nextId.current++;
    setToasts((list) => [...list.slice(-3), { id, tone: toast.tone ?? "success", message: toast.message }]);
    window.setTimeout(() => dismiss(id), toast.tone === "danger" ? 10000 : 6000);
  }, [dismiss]);
  const value = useMemo(() => ({ show }), [show]);
  const render = (tone: "polite" | "assertive") => (
    <ul className="ns-toasts" aria-live={tone} aria-relevant="additions" data-live={tone}>
      {toasts.filter((toast) => (toast.tone === "danger") === (tone === "assertive")).map((toast) => (
        <li key={toast.id} className={`ns-toast ns-toast--${toast.tone}`} data-testid="toast">
          <Icon name={toast.tone === "danger" ? "x" : toast.tone === "info" ? "info" : "check"} />
          <span className="ns-toast__body">{toast.message}</span>
          <Button variant="ghost" size="sm" aria-label="Dismiss" onClick={() => dismiss(toast.id)}>
            <Icon name="x" size={14} />
          </Button>
        </li>
      ))}
    </ul>
  );
  return (
    <ToastContext.Provider value={value}>
      {children}
      <div className="ns-toast-regions">
        {render("polite")}
        {render("assertive")}
      </div>
    </ToastContext.Provider>
  );
}

export function useToast(): ToastContextValue {
  const value = useContext(ToastContext);
  if (value === null) throw new Error("useToast outside <ToastProvider>");
  return value;
}
