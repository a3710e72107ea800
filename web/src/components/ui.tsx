import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useRef } from 'preact/hooks';
import { ApiError, errorMessage } from '../api/client.js';
import type { Loaded } from '../lib/hooks.js';

/** A page: its title in the tab and a heading that takes the focus after navigation. */
export function Page({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  // Before the browser paints: the focus is on the heading as soon as the page is there.
  useLayoutEffect(() => {
    document.title = `${title} · Gridshare`;
    heading.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <>
      <div class="page-head">
        <h1 tabIndex={-1} ref={heading}>{title}</h1>
        {actions}
      </div>
      {children}
    </>
  );
}

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  return <p class="error" role="alert">{typeof error === 'string' ? error : errorMessage(error)}</p>;
}

export function Loading({ what }: { what: string }) {
  return <p class="muted" role="status">Loading {what}…</p>;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}

export function NotFound({ what = 'page' }: { what?: string }) {
  return (
    <Page title="Not found">
      <p>This {what} does not exist, or it is not yours to see.</p>
      <p><a href="/">Back to your start page</a></p>
    </Page>
  );
}

/**
 * The loading / error / data states of a request in one place. A 404 shows as "not found",
 * the same answer the API gives for what exists but is not the caller's.
 */
export function Async<T>({ state, what, children }: { state: Loaded<T>; what: string; children: (data: T) => ComponentChildren }) {
  if (state.error instanceof ApiError && state.error.notFound) return <NotFound what={what} />;
  if (state.error) return <ErrorNote error={state.error} />;
  if (state.data === undefined) return <Loading what={what} />;
  return <>{children(state.data)}</>;
}

/** A label above its control; `hint` is read out with the control. */
export function Field({ label, hint, children, id }: { label: string; hint?: string; id: string; children: ComponentChildren }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children}
      {hint && <small id={`${id}-hint`} class="muted">{hint}</small>}
    </div>
  );
}

export function Stat({ label, value, detail }: { label: string; value: string; detail?: string }) {
  return (
    <div class="stat">
      <dt>{label}</dt>
      <dd>
        <span class="stat-value">{value}</span>
        {detail && <small class="muted">{detail}</small>}
      </dd>
    </div>
  );
}

export function Badge({ tone, children }: { tone: 'good' | 'bad' | 'neutral' | 'warn'; children: ComponentChildren }) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}
