"use client";
import { useEffect, useState } from "react";
import { Icon } from "@/components/ui/Icon";
import { relativeTime } from "@/lib/format";

/** "Live · updated 3 s ago", or a warning when the last refresh failed. */
export function LiveIndicator({ updatedAt, error }: { updatedAt: number | null; error: unknown }) {
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = window.setInterval(() => setTick((tick) => tick + 1), 5000);
    return () => window.clearInterval(timer);
  }, []);
  if (error) {
    return (
      <span className="ns-status-text ns-status-text--danger">
        <Icon name="unplug" /> Not updating
      </span>
    );
  }
  return (
    <span className="ns-status-text ns-status-text--success" title="Refreshes every few seconds">
      <Icon name="spark" /> Live
      <span className="ns-muted" style={{ fontWeight: 400 }}>
        {updatedAt ? `· updated ${relativeTime(new Date(updatedAt).toISOString())}` : ""}
      </span>
    </span>
  );
}
