/* tslint:disable */
/* eslint-disable */

export function __wbg_reset_state(): void;

/**
 * Benchmark support: routes the same input `repetitions` times inside the
 * module and returns the last output, so `scripts/bench/wasm-bench.ts` can
 * time routing decisions without the JS boundary in every iteration. Not
 * for production use.
 */
export function bench_route_repeatedly(input: string, repetitions: number): string;

/**
 * Checks outbound content (JSON text of the message model's `Content`)
 * against WhatsApp's limits: `{problems: [{path, code, message}]}` as JSON
 * text, each path relative to the content (`buttons[1].title`).
 */
export function check_content(content: string): string;

/**
 * Whether a bot compiled under `definition_key` is cached in this isolate.
 */
export function has_compiled_bot(definition_key: string): boolean;

/**
 * Returns the conversation state with the human handoff released.
 */
export function release_handoff(state: string): string;

/**
 * Decides what one inbound message causes.
 *
 * Input (JSON text): `{definition_key?, definition?, state, message: {id,
 * text, reply_id?, content?}, contact: {wa_id, name?, attributes?}, now_ms, seed?}`.
 * With a `definition_key` the compiled definition is kept and reused;
 * `definition` may then be left out when [`has_compiled_bot`] says it is
 * cached. Output (JSON text): `{actions, state, outcome}`.
 */
export function route(input: string): string;

/**
 * Chooses the bot version for a conversation (published, canary or the
 * conversation's own): `{version_id, reason, bucket}`.
 */
export function select_version(input: string): string;

/**
 * Test support: makes the module trap, the way a bug or an unbounded input
 * would (`kind`: `"panic"`, a Rust panic, which the release profile turns
 * into an `unreachable` trap; `"stack"`, unbounded recursion until the stack
 * overflows). `functions/tests/wasm_trap_test.ts` uses it to prove that a
 * trap costs one call, not the instance. Never called by the functions.
 */
export function trap_for_tests(kind: string): number;

/**
 * Validates a bot definition (JSON text): `{errors: [{path, code,
 * message}], warnings: [...]}` as JSON text. A definition too large or
 * nested too deep to read is a report with one `too_complex` error at the
 * path where it went too deep, like any other problem.
 */
export function validate_definition(definition: string): string;

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly bench_route_repeatedly: (a: number, b: number, c: number) => [number, number, number, number];
    readonly check_content: (a: number, b: number) => [number, number, number, number];
    readonly has_compiled_bot: (a: number, b: number) => number;
    readonly release_handoff: (a: number, b: number) => [number, number, number, number];
    readonly route: (a: number, b: number) => [number, number, number, number];
    readonly select_version: (a: number, b: number) => [number, number, number, number];
    readonly trap_for_tests: (a: number, b: number) => number;
    readonly validate_definition: (a: number, b: number) => [number, number, number, number];
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
