import { useCallback, useEffect, useState } from 'preact/hooks';
import type { RouteName } from '@gridshare/contract';
import { callUrl, request, type Answer, type Call } from '../api/client.js';

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/**
 * GETs route `name` with `input` (null: nothing yet) and again whenever the input changes,
 * `reload` is called or, with `refreshMs`, that often. What was loaded for another input is
 * never returned for this one.
 */
export function useApi<N extends RouteName>(name: N, input: Call<N> | null, { refreshMs }: { refreshMs?: number } = {}): Loaded<Answer<N>> {
  type T = Answer<N>;
  // The URL stands for the input: the same URL, the same answer.
  const path = callUrl<N>(name, input);
  const [state, setState] = useState<{ path: string | null; data: T | undefined; error: unknown; loading: boolean }>({ path, data: undefined, error: undefined, loading: path !== null });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    // The path is null exactly when the input is. The input is not narrowed and N is given, not
    // inferred: either makes the compiler expand every route's input at once (TS2590).
    if (path === null) return;
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    request<N>(name, input, { signal: controller.signal }).then(
      (data) => setState({ path, data, error: undefined, loading: false }),
      (error: unknown) => {
        if (!controller.signal.aborted) setState({ path, data: undefined, error, loading: false });
      },
    );
    return () => controller.abort();
  }, [path, generation]);
  useEffect(() => {
    if (path === null || refreshMs === undefined) return;
    const timer = setInterval(() => setGeneration((g) => g + 1), refreshMs);
    return () => clearInterval(timer);
  }, [path, refreshMs]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  const current = state.path === path;
  return { data: current ? state.data : undefined, error: current ? state.error : undefined, loading: !current || state.loading, reload };
}

export interface Action {
  busy: boolean;
  /** What `work` threw (ErrorNote shows it); undefined while it has not failed. */
  error: unknown;
  /** Runs `work`, keeping what it threw if it fails; resolves to its result or undefined. */
  run<R>(work: () => Promise<R>): Promise<R | undefined>;
  /** A form's submission: `work` gets the form's values; the form is cleared once it succeeded. */
  submit(event: Event, work: (values: Record<string, string>) => Promise<unknown>): void;
  clear(): void;
}

/** State of one button or form: busy while it runs, the error if it failed. */
export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const run = useCallback(async <R,>(work: () => Promise<R>) => {
    setBusy(true);
    setError(undefined);
    try {
      return await work();
    } catch (caught) {
      setError(caught);
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  const submit = useCallback((event: Event, work: (values: Record<string, string>) => Promise<unknown>) => {
    const form = event.currentTarget as HTMLFormElement;
    const values = formValues(event);
    void run(async () => {
      await work(values);
      form.reset();
    });
  }, [run]);
  return { busy, error, run, submit, clear: useCallback(() => setError(undefined), []) };
}

/** Re-renders every `ms` (for "12 s ago" texts). */
export function useTicker(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

/** Reads FormData fields as strings. */
export function formValues(event: Event): Record<string, string> {
  event.preventDefault();
  const data = new FormData(event.currentTarget as HTMLFormElement);
  return Object.fromEntries([...data.entries()].map(([k, v]) => [k, typeof v === 'string' ? v : '']));
}
