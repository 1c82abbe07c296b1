/* tslint:disable */
/* eslint-disable */

/**
 * Judges session snapshots.
 *
 * Input: `{snapshots: [{number_id, session_status, last_heartbeat_ms}], policy?, now_ms}`.
 * Output: one verdict per snapshot, in order.
 */
export function evaluate_health(input: any): any;

/**
 * Plans the notifications for one alert.
 *
 * Input: `{alert: {id, kind, severity, status}, channels: [{id, kind, min_severity, enabled}]}`.
 * Output: `[{channel_id, alert_id, text}]`.
 */
export function plan_alert(input: any): any;

/**
 * Decides the replies and next state for one inbound message.
 *
 * Input: `{definition, state, message: {id, text}, contact: {wa_id, name}, now_ms}`.
 * Output: `{replies: [{text}], state, outcome}`.
 */
export function route(input: any): any;

/**
 * Validates a bot definition and returns every problem found.
 *
 * Output: `{valid: boolean, errors: [{path, message}]}`.
 */
export function validate_definition(definition: any): any;

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly evaluate_health: (a: any) => [number, number, number];
    readonly plan_alert: (a: any) => [number, number, number];
    readonly route: (a: any) => [number, number, number];
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
