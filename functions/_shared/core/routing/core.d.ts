/* tslint:disable */
/* eslint-disable */

/**
 * Benchmark support: routes the same input `repetitions` times inside the
 * module and returns the last output, so `scripts/bench/wasm-bench.ts` can
 * time routing decisions without the JS boundary in every iteration. Not
 * for production use.
 */
export function bench_route_repeatedly(input: any, repetitions: number): any;

/**
 * Whether a bot compiled under `definition_key` is cached in this isolate.
 */
export function has_compiled_bot(definition_key: string): boolean;

/**
 * Returns the conversation state with the human handoff released.
 */
export function release_handoff(state: any): any;

/**
 * Decides what one inbound message causes.
 *
 * Input: `{definition_key?, definition?, state, message: {id, text, reply_id?},
 * contact: {wa_id, name?, attributes?}, now_ms, seed?}`. With a
 * `definition_key` the compiled definition is kept and reused; `definition`
 * may then be left out when [`has_compiled_bot`] says it is cached.
 * Output: `{actions, state, outcome}`.
 */
export function route(input: any): any;

/**
 * Chooses the bot version for a conversation (published, canary or the
 * conversation's own): `{version_id, reason, bucket}`.
 */
export function select_version(input: any): any;

/**
 * Validates a bot definition: `{errors: [{path, code, message}], warnings: [...]}`.
 */
export function validate_definition(definition: any): any;

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly bench_route_repeatedly: (a: any, b: number) => [number, number, number];
    readonly has_compiled_bot: (a: number, b: number) => number;
    readonly release_handoff: (a: any) => [number, number, number];
    readonly route: (a: any) => [number, number, number];
    readonly select_version: (a: any) => [number, number, number];
    readonly validate_definition: (a: any) => [number, number, number];
    readonly __wbindgen_malloc: (a: number, b: number) => number;
    readonly __wbindgen_realloc: (a: number, b: number, c: number, d: number) => number;
    readonly __wbindgen_free: (a: number, b: number, c: number) => void;
    readonly __wbindgen_exn_store: (a: number) => void;
    readonly __externref_table_alloc: () => number;
    readonly __wbindgen_externrefs: WebAssembly.Table;
    readonly __externref_table_dealloc: (a: number) => void;
    readonly __wbindgen_start: () => void;
}

export type SyncInitInput = BufferSource | WebAssembly.Module;

/**
 * Instantiates the given `module`, which can either be bytes or
 * a precompiled `WebAssembly.Module`.
 *
 * @param {{ module: SyncInitInput }} module - Passing `SyncInitInput` directly is deprecated.
 *
 * @returns {InitOutput}
 */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/**
 * If `module_or_path` is {RequestInfo} or {URL}, makes a request and
 * for everything else, calls `WebAssembly.instantiate` directly.
 *
 * @param {{ module_or_path: InitInput | Promise<InitInput> }} module_or_path - Passing `InitInput` directly is deprecated.
 *
 * @returns {Promise<InitOutput>}
 */
export default function __wbg_init (module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<InitOutput>;
