import { Icon, type IconName } from "./Icon";

export interface TimelineItem {
  id: string | number;
  icon: IconName;
  tone?: "neutral" | "success" | "warning" | "danger" | "info";
  title: React.ReactNode;
  /** ISO time; rendered in a <time> element. */
  time: string;
  timeLabel: string;
  detail?: React.ReactNode;
}

/** Events in order, newest first, each with an icon, a word and a time. */
export function Timeline({ items, label }: { items: TimelineItem[]; label: string }) {
  return (
    <ol className="ns-timeline" aria-label={label}>
      {items.map((item) => (
        <li key={item.id} className="ns-timeline__item">
          <span className={`ns-timeline__dot ns-timeline__dot--${item.tone ?? "neutral"}`}>
            <Icon name={item.icon} size={14} />
          </span>
          <div>
            <div className="ns-timeline__title">{item.title}</div>
            <div className="ns-timeline__meta">
              <time dateTime={item.time}>{item.timeLabel}</time>
              {item.detail ? <> · {item.detail}</> : null}
            </div>
          </div>
        </li>
      ))}
    </ol>
  );
}
