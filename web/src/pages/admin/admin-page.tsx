import type { ComponentChildren } from 'preact';
import { Field, NotFound, Page } from '../../components/ui.js';
import type { Formatter } from '../../lib/format.js';
import { useI18n } from '../../lib/i18n/provider.js';
import { useFormat, useSession } from '../../session.js';

/**
 * A page of the admin console. Only platform admins get it; anyone else sees "not found" (the
 * API refuses them too), and the navigation never links here for them.
 */
export function AdminPage({ title, children }: { title: string; children: (fmt: Formatter) => ComponentChildren }) {
  const { me } = useSession();
  const { t } = useI18n();
  const fmt = useFormat(undefined);
  if (!me?.user.isAdmin) return <NotFound />;
  return <Page title={t('admin.pageTitle', { page: title })}>{children(fmt)}</Page>;
}

/** A search box over a list; `onSearch` gets the text when it is submitted. */
export function SearchForm({ id, label, onSearch }: { id: string; label: string; onSearch: (text: string) => void }) {
  const { t } = useI18n();
  const submit = (event: Event) => {
    event.preventDefault();
    onSearch(String(new FormData(event.currentTarget as HTMLFormElement).get('q') ?? ''));
  };
  return (
    <form role="search" class="inline-form" onSubmit={submit}>
      <Field id={id} label={label}>
        <input id={id} name="q" type="search" maxLength={120} />
      </Field>
      <button type="submit">{t('admin.search')}</button>
    </form>
  );
}
