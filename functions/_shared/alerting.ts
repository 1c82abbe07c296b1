// Alert reconciliation and notification plans from the Rust core (crates/alerting) in WebAssembly.
export { alerting, type AlertingFunction } from "./operations.ts";
