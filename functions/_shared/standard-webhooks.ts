/**
 * Signing per the Standard Webhooks specification
 * (https://www.standardwebhooks.com): a secret `whsec_<base64 of 32
 * bytes>`, and for each request the headers `webhook-id` (the event's id,
 * the same on every retry), `webhook-timestamp` (Unix seconds) and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`.
 * Receivers verify with the `standardwebhooks` libraries (the tests do,
 * with the published npm package). Web Crypto only, so it runs on the edge
 * runtime.
 *
 * @module
 */

/** The secret's prefix. */
export const SECRET_PREFIX = "whsec_";

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** A new secret: `whsec_` and 32 random bytes in base64. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(32)));
}

/** The signing key of a secret (its bytes after `whsec_`). */
function secretBytes(secret: string): Uint8Array<ArrayBuffer> {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error("a webhook secret starts with whsec_");
  const binary = atob(secret.slice(SECRET_PREFIX.length));
  return Uint8Array.from(binary, (character) => character.charCodeAt(0));
}

/** The three headers of a signed request. */
export interface SignatureHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/** Signs a body for `id` at `timestampSeconds`. */
export async function signWebhook(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string,
): Promise<SignatureHeaders> {
  const key = await crypto.subtle.importKey(
    "raw",
    secretBytes(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const signed = new TextEncoder().encode(`${id}.${timestampSeconds}.${body}`);
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, signed));
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": `v1,${toBase64(signature)}`,
  };
}
