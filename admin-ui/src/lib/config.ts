/**
 * The browser-safe configuration, inlined at build time by Next.js
 * (next.config.ts fills unset values from ../.env.local, then ../.env.example).
 * Only the project URL and the anon key: never a service-role key or a
 * database URL (scripts/check-bundle-secrets.mjs checks the build).
 */

/** The Supabase project URL (locally, the functions gateway). */
export const SUPABASE_URL: string = (process.env.NEXT_PUBLIC_SUPABASE_URL ?? "").replace(/\/+$/, "");

/** The anon key: public, safe in the bundle. */
export const SUPABASE_ANON_KEY: string = process.env.NEXT_PUBLIC_SUPABASE_ANON_KEY ?? "";

/** The admin API's base URL: the only server the console talks to besides Supabase Auth. */
export const ADMIN_API_URL = `${SUPABASE_URL}/functions/v1/admin-api`;

/** Whether a URL points at this machine (the local stack). */
export function isLoopbackUrl(url: string): boolean {
  try {
    const { hostname } = new URL(url);
    return hostname === "localhost" || hostname === "[::1]" || hostname === "::1" ||
      /^127(\.\d{1,3}){3}$/.test(hostname);
  } catch {
    return false;
  }
}

/** Whether the console runs against the local stack (where supabase/local/auth.ts signs people in). */
export const IS_LOCAL_STACK = isLoopbackUrl(SUPABASE_URL);
