/** Where to go after signing in: a same-site path from `?next=`, else the overview. */
export function nextPath(search: string): string {
  const next = new URLSearchParams(search).get("next");
  return next !== null && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/signin")
    ? next
    : "/overview";
}
