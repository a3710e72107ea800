import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useRef } from 'preact/hooks';
import { ApiError, errorMessage } from '../api/client.js';
import type { Loaded } from '../lib/hooks.js';
import type { Translate } from '../lib/i18n/index.js';
import { useI18n } from '../lib/i18n/provider.js';

/** A page: its title in the tab and a heading that takes the focus after navigation. */
export function Page({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  const { t } = useI18n();
  // Before the browser paints: the focus is on the heading as soon as the page is there.
  useLayoutEffect(() => {
    document.title = t('app.documentTitle', { title });
    heading.current?.focus({ preventScroll: true });
  }, [title, t]);
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

/**
 * What went wrong, for a person: the app's own failures (no connection, an answer without a
 * message) in their language; the API's message as the server wrote it.
 */
function describeError(error: unknown, t: Translate): string {
  if (typeof error === 'string') return error;
  if (error instanceof ApiError && error.code === 'network') return t('error.network');
  if (error instanceof ApiError && error.code === 'http') return t('error.http', { status: error.status });
  return errorMessage(error);
}

export function ErrorNote({ error }: { error: unknown }) {
  const { t } = useI18n();
  if (!error) return null;
  return <p class="error" role="alert">{describeError(error, t)}</p>;
}

/** "Loading the members…"; `what` is already in the page's language. */
export function Loading({ what }: { what: string }) {
  const { t } = useI18n();
  return <p class="muted" role="status">{t('ui.loading', { what })}</p>;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}

export function NotFound({ what }: { what?: string }) {
  const { t } = useI18n();
  return (
    <Page title={t('ui.notFound')}>
      <p>{t('ui.notFoundText', { what: what ?? t('thing.page') })}</p>
      <p><a href="/">{t('ui.backToStart')}</a></p>
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
