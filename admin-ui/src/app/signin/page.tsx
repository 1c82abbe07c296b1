"use client";
/**
 * Sign-in with Supabase Auth (email and password, through supabase-js).
 * Hosted, Supabase Auth answers; on the local stack, the gateway's
 * supabase/local/auth.ts does, and this page names the seeded local owner.
 */
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { Button } from "@/components/ui/Button";
import { Card } from "@/components/ui/Card";
import { Field } from "@/components/ui/Field";
import { HeadingUnderline } from "@/components/ui/HeadingUnderline";
import { Input } from "@/components/ui/Input";
import { Notice } from "@/components/ui/Notice";
import { ThemeToggle } from "@/components/ui/ThemeToggle";
import { useAuth } from "@/lib/auth";
import { IS_LOCAL_STACK, SUPABASE_URL } from "@/lib/config";
import { nextPath } from "@/lib/navigation";

export default function SignInPage() {
  const { status, signIn } = useAuth();
  const router = useRouter();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (status === "signed-in") router.replace(nextPath(window.location.search));
  }, [status, router]);

  return (
    <main className="ns-signin" id="main">
      <div className="ns-signin__card">
        <Card variant="hero">
          <h1>Sign in</h1>
          <HeadingUnderline id="signin" />
          <p className="ns-muted">The wabot admin console: bots, numbers, conversations and alerts.</p>
          {IS_LOCAL_STACK
            ? (
              <Notice tone="info" title="Local stack">
                <p>
                  Signing in against <code>{SUPABASE_URL}</code>. The seeded local owner is{" "}
                  <code>admin@wabot.local</code> with the password <code>wabot-local-admin</code> (supabase/seed.sql).
                </p>
              </Notice>
            )
            : null}
          {error ? <Notice tone="danger" title="Could not sign in" live>{error}</Notice> : null}
          <form
            onSubmit={async (event) => {
              event.preventDefault();
              setBusy(true);
              setError(null);
              const failure = await signIn(email.trim(), password);
              setBusy(false);
              if (failure !== null) setError(failure);
            }}
          >
            <Field label="Email">
              {(control) => (
                <Input
                  {...control}
                  type="email"
                  autoComplete="username"
                  required
                  value={email}
                  onChange={(event) => setEmail(event.target.value)}
                />
              )}
            </Field>
            <Field label="Password">
              {(control) => (
                <Input
                  {...control}
                  type="password"
                  autoComplete="current-password"
                  required
                  value={password}
                  onChange={(event) => setPassword(event.target.value)}
                />
              )}
            </Field>
            <div className="ns-button-row">
              <Button type="submit" loading={busy} icon="user">Sign in</Button>
              <ThemeToggle />
            </div>
          </form>
        </Card>
      </div>
    </main>
  );
}
