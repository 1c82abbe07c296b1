"use client";
/**
 * Live data by polling: loads at once, then every `intervalMs` while the tab
 * is visible (and at once when it becomes visible again), never two loads at
 * a time. Keeps the last good data when a reload fails, so a blip shows as an
 * error banner rather than an empty page.
 */
import { useCallback, useEffect, useRef, useState } from "react";

export interface PollState<T> {
  data: T | undefined;
  error: unknown;
  /** True until the first load settles. */
  loading: boolean;
  /** When the data was last loaded. */
  updatedAt: number | null;
  /** Loads now (e.g. after an action). */
  reload: () => Promise<void>;
}

export function usePoll<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: readonly unknown[],
  intervalMs: number | null = 5000,
): PollState<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [updatedAt, setUpdatedAt] = useState<number | null>(null);
  const loadRef = useRef(load);
  loadRef.current = load;
  const inFlight = useRef<AbortController | null>(null);
  const generation = useRef(0);

  const run = useCallback(async () => {
    if (inFlight.current !== null) return;
    const controller = new AbortController();
    inFlight.current = controller;
    const runGeneration = generation.current;
    try {
      const result = await loadRef.current(controller.signal);
      if (runGeneration !== generation.current) return;
      setData(result);
      setError(null);
      setUpdatedAt(Date.now());
    } catch (caught) {
      if (controller.signal.aborted || runGeneration !== generation.current) return;
      setError(caught);
    } finally {
      if (inFlight.current === controller) inFlight.current = null;
      if (runGeneration === generation.current) setLoading(false);
    }
  }, []);

  useEffect(() => {
    generation.current += 1;
    inFlight.current?.abort();
    inFlight.current = null;
    setLoading(true);
    setData(undefined);
    setError(null);
    void run();
    if (intervalMs === null) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === "visible") void run();
    }, intervalMs);
    const onVisible = () => {
      if (document.visibilityState === "visible") void run();
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      window.clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisible);
      inFlight.current?.abort();
      inFlight.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, intervalMs, run]);

  const reload = useCallback(async () => {
    // A reload after an action must not be skipped by a poll in flight.
    inFlight.current?.abort();
    inFlight.current = null;
    await run();
  }, [run]);

  return { data, error, loading, updatedAt, reload };
}
