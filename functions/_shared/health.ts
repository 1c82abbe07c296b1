// Session health decisions from the Rust core (crates/health) in WebAssembly.
export { health, type HealthFunction } from "./operations.ts";
