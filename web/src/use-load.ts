import { useCallback, useEffect, useState } from 'preact/hooks';
import { errorText } from './components/ui';

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  code: string | undefined;
  loading: boolean;
  reload(): Promise<void>;
}

export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [code, setCode] = useState<string | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const reload = useCallback(async () => {
    setLoading(true);
    try {
      setData(await load());
      setError(undefined);
      setCode(undefined);
    } catch (e) {
      setError(errorText(e));
      setCode((e as { code?: string }).code);
    } finally {
      setLoading(false);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, code, loading, reload };
}

/** Reloads every `ms` while `active` (e.g. while something on the page is still pending). */
export function useRefreshWhile(active: boolean, reload: () => Promise<void>, ms = 3000): void {
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => void reload(), ms);
    return () => clearInterval(timer);
  }, [active, reload, ms]);
}
