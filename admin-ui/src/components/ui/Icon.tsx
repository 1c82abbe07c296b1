/**
 * Stroke icons (24-unit grid, currentColor), decorative by default: every
 * use sits beside a word, so status never rests on an icon or colour alone.
 */
const PATHS = {
  check: "M5 12.5l4.5 4.5L19 7.5",
  x: "M6 6l12 12M18 6L6 18",
  alert: "M12 3.5l9.5 16.5h-19zM12 10v4.5M12 17.5v.5",
  info: "M12 3a9 9 0 100 18 9 9 0 000-18zM12 11v6M12 7.5v.5",
  pause: "M8 5v14M16 5v14",
  play: "M7 4.5l12 7.5-12 7.5z",
  stop: "M6 6h12v12H6z",
  restart: "M4.5 12a7.5 7.5 0 1 0 2.2-5.3M4.5 4v4.5H9",
  plug: "M9 3v5M15 3v5M6.5 8h11v3a5.5 5.5 0 01-11 0zM12 16.5V21",
  unplug: "M9 3v5M15 3v5M6.5 8h11v3a5.5 5.5 0 01-11 0zM12 16.5V21M3 3l18 18",
  qr: "M4 4h6v6H4zM14 4h6v6h-6zM4 14h6v6H4zM14 14h2v2h-2zM18 18h2v2h-2zM14 18h2",
  clock: "M12 3a9 9 0 100 18 9 9 0 000-18zM12 7v5l3 2",
  spark: "M12 3v4M12 17v4M3 12h4M17 12h4M6 6l2.5 2.5M15.5 15.5L18 18M6 18l2.5-2.5M15.5 8.5L18 6",
  ban: "M12 3a9 9 0 100 18 9 9 0 000-18zM5.6 5.6l12.8 12.8",
  logout: "M15 4h4v16h-4M10 8l-4 4 4 4M6 12h10",
  gauge: "M4 16a8 8 0 1116 0M12 16l4-5",
  bell: "M6 16V11a6 6 0 1112 0v5l2 2H4zM10 20.5h4",
  bot: "M5 9h14v10H5zM12 5v4M9 13.5v1M15 13.5v1M2.5 13v3M21.5 13v3",
  chat: "M4 5h16v11H9l-5 4z",
  phone: "M7 3h10v18H7zM11 18h2",
  list: "M8 6h12M8 12h12M8 18h12M4 6h.5M4 12h.5M4 18h.5",
  settings: "M12 9a3 3 0 100 6 3 3 0 000-6zM12 2.5v3M12 18.5v3M2.5 12h3M18.5 12h3M5.3 5.3l2.1 2.1M16.6 16.6l2.1 2.1M5.3 18.7l2.1-2.1M16.6 7.4l2.1-2.1",
  palette: "M12 3a9 9 0 000 18c1.5 0 2-1 2-2s-1-1.5-1-2.5 1-1.5 2-1.5h2a4 4 0 004-4c0-4.5-4-8-9-8zM7.5 11.5h.5M10 7.5h.5M15 7.5h.5",
  menu: "M4 6h16M4 12h16M4 18h16",
  send: "M4 12l16-8-6 16-2.5-6.5z",
  user: "M12 4a4 4 0 100 8 4 4 0 000-8zM4.5 20.5a7.5 7.5 0 0115 0",
  hand: "M8 13V5.5a1.5 1.5 0 013 0V11M11 10V4.5a1.5 1.5 0 013 0V11M14 10.5V6a1.5 1.5 0 013 0v8a7 7 0 01-7 7h-.5a6 6 0 01-5-2.7L2.5 15a1.5 1.5 0 012.4-1.8L8 16",
  eye: "M2.5 12s3.5-6.5 9.5-6.5 9.5 6.5 9.5 6.5-3.5 6.5-9.5 6.5S2.5 12 2.5 12zM12 9a3 3 0 100 6 3 3 0 000-6z",
  sun: "M12 8a4 4 0 100 8 4 4 0 000-8zM12 2v2.5M12 19.5V22M2 12h2.5M19.5 12H22M4.9 4.9l1.8 1.8M17.3 17.3l1.8 1.8M4.9 19.1l1.8-1.8M17.3 6.7l1.8-1.8",
  moon: "M20 14.5A8 8 0 019.5 4 8 8 0 1020 14.5z",
  plus: "M12 5v14M5 12h14",
  download: "M12 4v11M7 10l5 5 5-5M5 20h14",
  paperclip: "M16.5 7.5l-7 7a2 2 0 002.8 2.8l7.5-7.5a4 4 0 00-5.7-5.7L6.6 11.6a6 6 0 008.5 8.5l5.4-5.4",
  reply: "M10 8L4 13l6 5M4 13h10a6 6 0 016 6",
  trash: "M4 7h16M9 7V4h6v3M6.5 7l1 13h9l1-13",
  arrowLeft: "M19 12H5M11 6l-6 6 6 6",
  flag: "M5 21V4M5 4h11l-2 4 2 4H5",
  doubleCheck: "M2.5 12.5L7 17l9-9.5M10 16l1 1 9.5-9.5",
  escalate: "M12 20V5M6 11l6-6 6 6M5 20h14",
  queue: "M4 6h16M4 12h10M4 18h6",
  question: "M12 3a9 9 0 100 18 9 9 0 000-18zM9.5 9.5a2.5 2.5 0 114 2c-1 .7-1.5 1.2-1.5 2.5M12 17v.5",
} as const;

export type IconName = keyof typeof PATHS;

export interface IconProps {
  name: IconName;
  size?: number;
  /** A label makes the icon meaningful to assistive technology; without one it is hidden. */
  label?: string;
  className?: string;
}

export function Icon({ name, size = 18, label, className }: IconProps) {
  return (
    <svg
      className={className ? `ns-icon ${className}` : "ns-icon"}
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={2}
      strokeLinecap="round"
      strokeLinejoin="round"
      role={label ? "img" : undefined}
      aria-label={label}
      aria-hidden={label ? undefined : true}
      focusable="false"
    >
      <path d={PATHS[name]} />
    </svg>
  );
}
