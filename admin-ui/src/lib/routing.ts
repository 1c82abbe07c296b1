/**
 * The routing core in the browser: the same wasm-bindgen module the Edge
 * Functions run (`functions/_shared/core/routing`, copied into
 * `src/generated/` by `scripts/sync-routing-wasm.mjs`, which also decodes
 * the embedded bytes into `core_bg.wasm`), loaded on demand and instantiated
 * asynchronously: the glue's default loader fetches `core_bg.wasm`, which the
 * bundler emits as a static asset. (`functions/_shared/routing.ts` compiles
 * synchronously at import, which browsers refuse for large modules on the
 * main thread.) The calls mirror that file's `route` and
 * `validateDefinition`, and its types are imported from the copy, so the
 * test chat and validation behave exactly as the server does.
 */
import type {
  DefinitionProblem,
  RouteInput,
  RouteOutput,
  ValidationReport,
} from "@/generated/routing.ts";
import { guarded } from "@/generated/wasm-instance.ts";

export type {
  Action,
  ConversationState,
  DefinitionProblem,
  OutboundMessage,
  RouteInput,
  RouteOutput,
  ValidationReport,
} from "@/generated/routing.ts";

type CoreModule = typeof import("@/generated/core/routing/core.js");

let loading: Promise<CoreModule> | null = null;

/**
 * Loads and instantiates the routing module once; later calls share it.
 * `bytes` replaces the fetch of `core_bg.wasm` (tests under Node pass the
 * file's bytes).
 */
export function loadRouting(bytes?: BufferSource): Promise<CoreModule> {
  loading ??= (async () => {
    const core = await import("@/generated/core/routing/core.js");
    await core.default(bytes === undefined ? undefined : { module_or_path: bytes });
    return core;
  })();
  loading.catch(() => {
    loading = null;
  });
  return loading;
}

/** The routing module, once loaded: the same calls as `functions/_shared/routing.ts`. */
export interface Routing {
  route(input: RouteInput): RouteOutput;
  validateDefinition(definition: unknown): ValidationReport;
}

/**
 * Wraps a loaded core module. Inputs cross as JSON text, which the module
 * reads within its bounds; a trap resets the instance, as on the server
 * (`functions/_shared/wasm-instance.ts`, copied beside `routing.ts`).
 */
export function routingFrom(core: CoreModule): Routing {
  return {
    route(input) {
      const { definitionKey, definition, ...request } = input;
      return guarded("routing", core, "route", () => {
        const withDefinition = core.has_compiled_bot(definitionKey)
          ? { ...request, definition_key: definitionKey }
          : { ...request, definition_key: definitionKey, definition };
        return JSON.parse(core.route(JSON.stringify(withDefinition))) as RouteOutput;
      });
    },
    validateDefinition(definition) {
      const text = JSON.stringify(definition);
      return guarded(
        "routing",
        core,
        "validate_definition",
        () => JSON.parse(core.validate_definition(text)) as ValidationReport,
      );
    },
  };
}

/** Loads the module and returns its calls. */
export async function getRouting(): Promise<Routing> {
  return routingFrom(await loadRouting());
}

/** A problem list sorted as the editor shows it: by path, then code. */
export function sortProblems(problems: DefinitionProblem[]): DefinitionProblem[] {
  return [...problems].sort((a, b) => a.path.localeCompare(b.path) || a.code.localeCompare(b.code));
}
