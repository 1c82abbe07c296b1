/**
 * The Supabase client, for Auth only: sign-in with a password, the session
 * and its refresh. Hosted, that is Supabase Auth (GoTrue); on the local stack,
 * `supabase/local/auth.ts` answers the same `/auth/v1/` calls. Data never goes
 * through PostgREST: the console calls the admin API (src/lib/api.ts).
 */
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { SUPABASE_ANON_KEY, SUPABASE_URL } from "./config";

let client: SupabaseClient | null = null;

/** The browser's one client (created on first use, never on the server). */
export function getSupabase(): SupabaseClient {
  client ??= createClient(SUPABASE_URL, SUPABASE_ANON_KEY, {
    auth: {
      persistSession: true,
      autoRefreshToken: true,
      detectSessionInUrl: false,
      storageKey: "wabot-admin-auth",
    },
  });
  return client;
}
