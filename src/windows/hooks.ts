import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from './api.js';

export interface Resource<T> {
  data?: T;
  error?: ApiError;
  loading: boolean;
  reload(): Promise<void>;
  /** Replace the data at once (after a change the API answered with). */
  set(data: T): void;
}

/** GETs `path` now and whenever `reload` is called; an older answer never overwrites a newer one. */
export function useResource<T>(path: string | undefined): Resource<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean }>({ loading: !!path });
  const generation = useRef(0);
  const reload = useCallback(async () => {
    if (!path) return;
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true }));
    try {
      const data = await api.get<T>(path);
      if (mine === generation.current) setState({ data, loading: false });
    } catch (err) {
      if (mine === generation.current) setState((s) => ({ ...s, error: err as ApiError, loading: false }));
    }
  }, [path]);
  useEffect(() => {
    void reload();
  }, [reload]);
  const set = useCallback((data: T) => setState({ data, loading: false }), []);
  return { ...state, reload, set };
}

type LiveEvent = 'failover' | 'account-state' | 'exhausted' | 'accounts-changed' | 'request';

/**
 * Calls `onChange` (at most once per `quietMs`) when the gateway reports one
 * of `events` on its event stream, so the popover shows failovers and quota
 * changes as they happen.
 */
export function useLive(events: LiveEvent[], onChange: () => void, quietMs = 400): void {
  const callback = useRef(onChange);
  callback.current = onChange;
  const key = events.join(',');
  useEffect(() => {
    if (typeof EventSource === 'undefined') return;
    const source = new EventSource('/aigate/api/events');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const fire = () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        callback.current();
      }, quietMs);
    };
    for (const name of key.split(',')) source.addEventListener(name, fire);
    return () => {
      clearTimeout(timer);
      source.close();
    };
  }, [key, quietMs]);
}

/** Runs an action, keeping its error to show beside the control that started it. */
export function useAction(): { busy: boolean; error?: string; run(action: () => Promise<unknown>): Promise<boolean>; clear(): void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const run = useCallback(async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      return true;
    } catch (err) {
      setError((err as Error).message);
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, clear: () => setError(undefined) };
}

/** The current time, ticking every `everyMs`, so "resets in" labels stay true while a popover is open. */
export function useNow(everyMs = 30_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
