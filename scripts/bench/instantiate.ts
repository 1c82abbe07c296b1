// Measures, in a fresh Deno process, how long one wasm-bindgen module takes
// to become usable the way the Edge Functions load it: decode the embedded
// base64, compile and instantiate with `initSync`. Prints milliseconds.
//   deno run --allow-read scripts/bench/instantiate.ts <glue.js> <module.b64>
const [gluePath, base64Path] = Deno.args;
const base64 = await Deno.readTextFile(base64Path);
const glue = await import(new URL(gluePath, `file://${Deno.cwd()}/`).href);
const started = performance.now();
const binary = atob(base64);
const bytes = new Uint8Array(binary.length);
for (let index = 0; index < binary.length; index++) {
  bytes[index] = binary.charCodeAt(index);
}
glue.initSync({ module: bytes });
console.log((performance.now() - started).toFixed(3));
