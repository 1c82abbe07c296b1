"use client";
import { useId, useRef } from "react";

export interface TabItem {
  id: string;
  label: React.ReactNode;
}

export interface TabsProps {
  label: string;
  tabs: TabItem[];
  selected: string;
  onSelect: (id: string) => void;
  /** The panel of the selected tab. */
  children: React.ReactNode;
}

/**
 * WAI-ARIA tabs: Left/Right (and Home/End) move between tabs and select them;
 * Tab moves into the panel.
 */
export function Tabs({ label, tabs, selected, onSelect, children }: TabsProps) {
  const base = useId();
  const refs = useRef<Array<HTMLButtonElement | null>>([]);
  const index = Math.max(0, tabs.findIndex((tab) => tab.id === selected));
  const move = (to: number) => {
    const next = (to + tabs.length) % tabs.length;
    const tab = tabs[next];
    if (tab === undefined) return;
    onSelect(tab.id);
    refs.current[next]?.focus();
  };
  return (
    <div className="ns-tabs">
      <div className="ns-tabs__list" role="tablist" aria-label={label}>
        {tabs.map((tab, tabIndex) => (
          <button
            key={tab.id}
            ref={(element) => {
              refs.current[tabIndex] = element;
            }}
            type="button"
            role="tab"
            id={`${base}-tab-${tab.id}`}
            className="ns-tabs__tab"
            aria-selected={tab.id === selected}
            aria-controls={`${base}-panel`}
            tabIndex={tab.id === selected ? 0 : -1}
            onClick={() => onSelect(tab.id)}
            onKeyDown={(event) => {
              if (event.key === "ArrowRight") move(index + 1);
              else if (event.key === "ArrowLeft") move(index - 1);
              else if (event.key === "Home") move(0);
              else if (event.key === "End") move(tabs.length - 1);
              else return;
              event.preventDefault();
            }}
          >
            {tab.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`${base}-panel`} aria-labelledby={`${base}-tab-${selected}`}>
        {children}
      </div>
    </div>
  );
}
