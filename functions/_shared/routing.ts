// Routing decisions from the Rust core (crates/routing) in WebAssembly.
export {
  type Action,
  type ConversationState,
  type DefinitionProblem,
  type OutboundMessage,
  releaseHandoff,
  route,
  type RouteInput,
  type RouteOutput,
  selectVersion,
  validateDefinition,
  type ValidationReport,
  type VersionChoice,
  type VersionSelectionInput,
} from "./wasm.ts";
