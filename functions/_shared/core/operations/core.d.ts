/* tslint:disable */
/* eslint-disable */

export function __wbg_reset_state(): void;

/**
 * Calls the alerting function `name` (see [`alerting::call_json`]) with
 * JSON text in and JSON text out, like [`health`].
 */
export function alerting(name: string, input: string): string;

/**
 * Calls the health function `name` (see [`health::call_json`]) with JSON
 * text in and JSON text out.
 *
 * Health and alerting inputs can be bulky (a sweep over 10,000 numbers), and
 * text crosses the boundary far faster than an object graph:
 * `JSON.stringify` and `JSON.parse` are native, and serde_json parses the
 * typed input in one pass inside the module (see docs/adr/0004).
 * `functions/_shared/operations.ts` does the stringify and parse.
 */
export function health(name: string, input: string): string;

/**
 * Test support: makes the module trap, the way a bug or an unbounded input
 * would (`kind`: `"panic"`, a Rust panic, which the release profile turns
 * into an `unreachable` trap; `"stack"`, unbounded recursion until the stack
 * overflows). `functions/tests/wasm_trap_test.ts` uses it to prove that a
 * trap costs one call, not the instance. Never called by the functions.
 */
export function trap_for_tests(kind: string): number;

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly alerting: (a: number, b: number, c: number, d: number) => [number, number, number, number];
    readonly health: (a: number, b: number, c: number, d: number) => [number, number, number, number];
    readonly trap_for_tests: (a: number, b: number) => number;
    readonly __wbindgen_externrefs: WebAssembly.Table;
    readonly __wbindgen_malloc: (a: number, b: number) => number;
    readonly __wbindgen_realloc: (a: number, b: number, c: number, d: number) => number;
    readonly __wbindgen_free: (a: number, b: number, c: number) => void;
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
