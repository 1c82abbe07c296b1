"use client";
/**
 * The signed-in session and the admin API client built on it. The session
 * comes from Supabase Auth through supabase-js (`signInWithPassword`, stored
 * in localStorage, refreshed automatically); the caller's role from the admin
 * API's `GET /me`.
 */
import type { Session } from "@supabase/supabase-js";
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from "react";
import { AdminApi } from "./admin-api";
import { ApiClient, describeError } from "./api";
import { ADMIN_API_URL } from "./config";
import { getSupabase } from "./supabase";
import type { Me } from "./types";

export type AuthStatus = "loading" | "signed-out" | "signed-in";

export interface AuthContextValue {
  status: AuthStatus;
  session: Session | null;
  /** The caller as the admin API sees them; null until loaded or when it failed. */
  me: Me | null;
  /** Why `me` could not be loaded, if it could not. */
  meError: string | null;
  api: AdminApi;
  signIn(email: string, password: string): Promise<string | null>;
  signOut(): Promise<void>;
}

const AuthContext = createContext<AuthContextValue | null>(null);

export function AuthProvider({ children }: { children: React.ReactNode }) {
  const [status, setStatus] = useState<AuthStatus>("loading");
  const [session, setSession] = useState<Session | null>(null);
  const [me, setMe] = useState<Me | null>(null);
  const [meError, setMeError] = useState<string | null>(null);

  const api = useMemo(
    () =>
      new AdminApi(
        new ApiClient(ADMIN_API_URL, async () => {
          const { data } = await getSupabase().auth.getSession();
          return data.session?.access_token ?? null;
        }),
      ),
    [],
  );

  useEffect(() => {
    const supabase = getSupabase();
    let cancelled = false;
    void supabase.auth.getSession().then(({ data }) => {
      if (cancelled) return;
      setSession(data.session);
      setStatus(data.session ? "signed-in" : "signed-out");
    });
    const { data: subscription } = supabase.auth.onAuthStateChange((_event, next) => {
      setSession(next);
      setStatus(next ? "signed-in" : "signed-out");
    });
    return () => {
      cancelled = true;
      subscription.subscription.unsubscribe();
    };
  }, []);

  const userId = session?.user.id ?? null;
  useEffect(() => {
    if (userId === null) {
      setMe(null);
      setMeError(null);
      return;
    }
    let cancelled = false;
    api.me().then(
      (value) => {
        if (!cancelled) {
          setMe(value);
          setMeError(null);
        }
      },
      (error: unknown) => {
        if (!cancelled) setMeError(describeError(error));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, userId]);

  const signIn = useCallback(async (email: string, password: string) => {
    try {
      const { error } = await getSupabase().auth.signInWithPassword({ email, password });
      return error ? error.message : null;
    } catch (error) {
      return describeError(error);
    }
  }, []);

  const signOut = useCallback(async () => {
    await getSupabase().auth.signOut().catch(() => undefined);
    setSession(null);
    setStatus("signed-out");
  }, []);

  const value = useMemo<AuthContextValue>(
    () => ({ status, session, me, meError, api, signIn, signOut }),
    [status, session, me, meError, api, signIn, signOut],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthContextValue {
  const value = useContext(AuthContext);
  if (value === null) throw new Error("useAuth outside <AuthProvider>");
  return value;
}

/** The admin API client of the signed-in user. */
export function useApi(): AdminApi {
  return useAuth().api;
}
