// Shared by the Wasm entry points (routing.ts, operations.ts): the modules'
// bytes are embedded as base64 by scripts/build-wasm.sh, so they travel in
// the module graph and deploys need no static files (docs/adr/0004).

/** Decodes the embedded base64 Wasm bytes. */
export function decodeBase64(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) {
    bytes[index] = binary.charCodeAt(index);
  }
  return bytes;
}
