"use client";
/**
 * The console's frame: a skip link, the navigation (a sidebar on wide
 * screens, a disclosure menu on narrow ones), the signed-in user, and the
 * guard that sends signed-out visitors to /signin.
 */
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { Button } from "@/components/ui/Button";
import { Icon, type IconName } from "@/components/ui/Icon";
import { Loading } from "@/components/ui/Loading";
import { Notice } from "@/components/ui/Notice";
import { ThemeToggle } from "@/components/ui/ThemeToggle";
import { useAuth } from "@/lib/auth";
import { IS_LOCAL_STACK } from "@/lib/config";
import { usePoll } from "@/lib/use-poll";

const NAV: Array<{ href: string; label: string; icon: IconName }> = [
  { href: "/overview", label: "Overview", icon: "gauge" },
  { href: "/numbers", label: "Numbers", icon: "phone" },
  { href: "/bots", label: "Bots", icon: "bot" },
  { href: "/conversations", label: "Conversations", icon: "chat" },
  { href: "/alerts", label: "Alerts", icon: "bell" },
  { href: "/dead-letters", label: "Dead letters", icon: "queue" },
  { href: "/audit", label: "Audit log", icon: "list" },
  { href: "/settings", label: "Settings", icon: "settings" },
  { href: "/design", label: "Design system", icon: "palette" },
];

export function AppShell({ children }: { children: React.ReactNode }) {
  const { status, me, meError, session, signOut } = useAuth();
  const pathname = usePathname();
  const router = useRouter();
  const [menuOpen, setMenuOpen] = useState(false);
  const { api } = useAuth();
  // Open alerts on every page, so a new one is seen wherever people are.
  const dashboard = usePoll(
    (signal) => (status === "signed-in" && me?.role ? api.dashboard(signal) : Promise.resolve(null)),
    [api, status, me?.role],
    15000,
  );
  const openAlerts = dashboard.data?.open_alerts.total ?? 0;

  useEffect(() => {
    if (status === "signed-out") router.replace(`/signin?next=${encodeURIComponent(pathname)}`);
  }, [status, pathname, router]);

  useEffect(() => setMenuOpen(false), [pathname]);

  if (status !== "signed-in") {
    return (
      <main className="ns-shell__center" id="main">
        <Loading label={status === "loading" ? "Checking your session…" : "Redirecting to sign-in…"} />
      </main>
    );
  }

  return (
    <div className="ns-shell">
      <a className="ns-skip-link" href="#main">Skip to content</a>
      <header className="ns-shell__top">
        <Link href="/overview" className="ns-shell__brand">
          <span className="ns-shell__logo" aria-hidden="true">w</span>
          <span>wabot admin</span>
        </Link>
        {IS_LOCAL_STACK ? <span className="ns-badge ns-badge--accent" title="Talking to the local stack">Local</span> : null}
        <Button
          variant="secondary"
          size="sm"
          className="ns-shell__menu-button"
          icon="menu"
          aria-expanded={menuOpen}
          aria-controls="primary-nav"
          onClick={() => setMenuOpen((open) => !open)}
        >
          Menu
        </Button>
      </header>
      <nav id="primary-nav" className="ns-shell__nav" data-open={menuOpen} aria-label="Primary">
        <div className="ns-shell__nav-inner">
        <ul className="ns-list-reset">
          {NAV.map((item) => {
            const current = pathname === item.href || pathname.startsWith(`${item.href}/`);
            return (
              <li key={item.href}>
                <Link href={item.href} className="ns-shell__link" aria-current={current ? "page" : undefined}>
                  <Icon name={item.icon} />
                  {item.label}
                  {item.href === "/alerts" && openAlerts > 0
                    ? (
                      <span className="ns-shell__count">
                        {openAlerts}
                        <span className="ns-visually-hidden"> unresolved</span>
                      </span>
                    )
                    : null}
                </Link>
              </li>
            );
          })}
        </ul>
        <div className="ns-shell__user">
          <span className="ns-shell__email" title={session?.user.email ?? undefined}>
            <Icon name="user" /> {session?.user.email ?? "signed in"}
          </span>
          <span className="ns-muted">{me?.role ? `Role: ${me.role}` : meError ? "Role unknown" : "…"}</span>
          <div className="ns-button-row">
            <ThemeToggle />
            <Button variant="secondary" size="sm" icon="logout" onClick={() => void signOut()}>Sign out</Button>
          </div>
        </div>
        </div>
      </nav>
      <main id="main" className="ns-shell__main" tabIndex={-1}>
        {meError
          ? <Notice tone="danger" title="The admin API did not answer">{meError}</Notice>
          : me && me.role === null
          ? (
            <Notice tone="warning" title="You are not a member of this project">
              You are signed in as {me.email ?? me.user_id}, but an admin has not given you a role yet, so every page will be
              empty. Ask an admin to add you under Settings.
            </Notice>
          )
          : null}
        {children}
      </main>
    </div>
  );
}
