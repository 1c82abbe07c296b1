/** Formatting helpers: times, durations, ids. Pure, so tests pin them down. */

/** "just now", "5 s ago", "3 min ago", "2 h ago", "4 d ago"; future times as "in …". */
export function relativeTime(iso: string | null | undefined, nowMs: number = Date.now()): string {
  if (!iso) return "never";
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "unknown";
  const seconds = Math.round((nowMs - then) / 1000);
  const future = seconds < 0;
  const span = Math.abs(seconds);
  let text: string;
  if (span < 5) return "just now";
  if (span < 60) text = `${span} s`;
  else if (span < 3600) text = `${Math.floor(span / 60)} min`;
  else if (span < 86400) text = `${Math.floor(span / 3600)} h`;
  else text = `${Math.floor(span / 86400)} d`;
  return future ? `in ${text}` : `${text} ago`;
}

/** A compact local date and time, e.g. "26 Nov, 09:12:05". */
export function dateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "—";
  return date.toLocaleString(undefined, {
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

/** The time of day, e.g. "09:12". */
export function timeOfDay(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "—";
  return date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

/** Seconds as "1 h 5 min", "3 min 2 s", "12 s". */
export function duration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (hours > 0) return `${hours} h ${minutes} min`;
  if (minutes > 0) return `${minutes} min ${rest} s`;
  return `${rest} s`;
}

/** The first 8 characters of a UUID, for display beside the full id in a title. */
export function shortId(value: string | null | undefined): string {
  return value ? value.slice(0, 8) : "—";
}

/** "logged_out" → "logged out". */
export function humanize(value: string): string {
  return value.replace(/_/g, " ");
}

/** A number with a noun: 1 number, 2 numbers. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
