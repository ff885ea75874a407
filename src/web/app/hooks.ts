/** Data loading for pages: one request per view, cancelled when the view goes away or its inputs change. */
import { useCallback, useEffect, useState } from "preact/hooks";
import { api, ApiError, type Page, type Query } from "./api.js";

export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: ApiError | undefined;
  readonly loading: boolean;
  readonly reload: () => void;
}

function asApiError(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError(0, "CLIENT", String(e));
}

/** GET path (null: nothing to load yet). Re-runs when path or query change. */
export function useApi<T>(path: string | null, query?: Query): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean }>({
    loading: path !== null,
  });
  const [tick, setTick] = useState(0);
  const key = path === null ? "" : `${path}?${JSON.stringify(query ?? {})}`;
  useEffect(() => {
    if (path === null) {
      setState({ loading: false });
      return;
    }
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    api<T>(path, { ...(query ? { query } : {}), signal: ctl.signal })
      .then((data) => setState({ data, loading: false }))
      .catch((e: unknown) => {
        if (!ctl.signal.aborted) setState({ error: asApiError(e), loading: false });
      });
    return () => ctl.abort();
    // key stands for path and query: a new object with the same values does not reload
  }, [key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export interface PagedList<T> {
  readonly items: T[];
  readonly error: ApiError | undefined;
  readonly loading: boolean;
  readonly hasMore: boolean;
  readonly more: () => void;
  readonly reload: () => void;
}

/** A paged list endpoint ({ items, next }): the first page, then more on request. */
export function usePaged<T>(path: string | null, query?: Query, limit = 100): PagedList<T> {
  const [items, setItems] = useState<T[]>([]);
  const [next, setNext] = useState<string | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [loading, setLoading] = useState(path !== null);
  const [tick, setTick] = useState(0);
  const key = path === null ? "" : `${path}?${JSON.stringify(query ?? {})}`;

  const load = useCallback(
    async (after: string | undefined, signal?: AbortSignal) => {
      if (path === null) return;
      setLoading(true);
      try {
        const page = await api<Page<T>>(path, {
          query: { ...query, limit, ...(after ? { after } : {}) },
          ...(signal ? { signal } : {}),
        });
        if (signal?.aborted) return;
        setItems((old) => (after ? [...old, ...page.items] : page.items));
        setNext(page.next);
        setError(undefined);
      } catch (e) {
        if (!signal?.aborted) setError(asApiError(e));
      } finally {
        if (!signal?.aborted) setLoading(false);
      }
    },
    [key, limit],
  );

  useEffect(() => {
    const ctl = new AbortController();
    setItems([]);
    setNext(undefined);
    void load(undefined, ctl.signal);
    return () => ctl.abort();
  }, [load, tick]);

  return {
    items,
    error,
    loading,
    hasMore: next !== undefined,
    more: () => void load(next),
    reload: () => setTick((t) => t + 1),
  };
}
