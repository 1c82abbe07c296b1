"use client";
import { useEffect, useState } from "react";
import { Button } from "./Button";

type Theme = "light" | "dark";

/** The theme: the system's by default, or the one chosen here (remembered). */
export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme | null>(null);
  useEffect(() => {
    const stored = document.documentElement.dataset.theme;
    const current: Theme = stored === "dark" || stored === "light"
      ? stored
      : window.matchMedia("(prefers-color-scheme: dark)").matches
      ? "dark"
      : "light";
    setTheme(current);
  }, []);
  const next: Theme = theme === "dark" ? "light" : "dark";
  return (
    <Button
      variant="secondary"
      size="sm"
      icon={theme === "dark" ? "sun" : "moon"}
      aria-label={`Switch to ${next} theme`}
      onClick={() => {
        document.documentElement.dataset.theme = next;
        try {
          localStorage.setItem("wabot-theme", next);
        } catch {
          // Storage may be unavailable; the choice then lasts for this page.
        }
        setTheme(next);
      }}
    >
      {next === "dark" ? "Dark" : "Light"}
    </Button>
  );
}

/** Runs before the first paint (inlined in <head>) so a chosen theme never flashes. */
export const THEME_BOOTSTRAP =
  `try{var t=localStorage.getItem("wabot-theme");if(t==="dark"||t==="light")document.documentElement.dataset.theme=t}catch(e){}`;
