import { useState } from 'preact/hooks';
import { call } from '../../api/client.js';
import type { Account } from '@gridshare/contract/admin';
import { Async, Badge, Empty, ErrorNote } from '../../components/ui.js';
import type { Formatter } from '../../lib/format.js';
import { useAction, useApi } from '../../lib/hooks.js';
import { useI18n } from '../../lib/i18n/provider.js';
import { useSession } from '../../session.js';
import { AdminPage, SearchForm } from './admin-page.js';

export default function Users() {
  const [query, setQuery] = useState('');
  const accounts = useApi('adminUsers', { query: { q: query } });
  const { t } = useI18n();
  return (
    <AdminPage title={t('admin.users')}>
      {(fmt) => (
        <section class="card" aria-labelledby="users-heading">
          <h2 id="users-heading">{t('admin.users')}</h2>
          <SearchForm id="user-search" label={t('admin.searchUsers')} onSearch={setQuery} />
          <Async state={accounts} what={t('admin.users')}>
            {({ accounts: list, total }) => list.length === 0 ? <Empty><p>{t('admin.noUsers')}</p></Empty> : (
              <>
                <p class="muted">{t('admin.usersShown', { shown: fmt.count(list.length), total: fmt.count(total) })}</p>
                <ul class="rows" aria-label={t('admin.users')}>
                  {list.map((account) => <AccountRow key={account.id} account={account} fmt={fmt} onChanged={accounts.reload} />)}
                </ul>
              </>
            )}
          </Async>
        </section>
      )}
    </AdminPage>
  );
}

function AccountRow({ account: a, fmt, onChanged }: { account: Account; fmt: Formatter; onChanged: () => void }) {
  const { t } = useI18n();
  const { me } = useSession();
  const action = useAction();
  const oneself = me?.user.id === a.id;
  const change = (work: () => Promise<unknown>) => void action.run(async () => {
    await work();
    onChanged();
  });
  return (
    <li data-account={a.email}>
      <div>
        <strong>{a.displayName}</strong> <small class="muted">{a.email} · {t('admin.since', { date: fmt.date(a.createdAt) })}</small>{' '}
        {a.isAdmin && <Badge tone="neutral">{t('account.platformAdmin')}</Badge>}{' '}
        {a.lockedAt && <Badge tone="bad">{t('admin.lockedSince', { time: fmt.dateTime(a.lockedAt) })}</Badge>}
      </div>
      {!oneself && (
        <div class="row-actions">
          {a.lockedAt
            ? <button type="button" disabled={action.busy} onClick={() => change(() => call('unlockUser', { params: { id: a.id } }))}>{t('admin.unlock')}<span class="sr-only"> {a.email}</span></button>
            : <button type="button" class="danger" disabled={action.busy} onClick={() => change(() => call('lockUser', { params: { id: a.id } }))}>{t('admin.lock')}<span class="sr-only"> {a.email}</span></button>}
          <button type="button" class="secondary" disabled={action.busy} onClick={() => change(() => call('setPlatformAdmin', { params: { id: a.id }, body: { isAdmin: !a.isAdmin } }))}>
            {t(a.isAdmin ? 'admin.revokeAdmin' : 'admin.grantAdmin')}<span class="sr-only"> {a.email}</span>
          </button>
        </div>
      )}
      <ErrorNote error={action.error} />
    </li>
  );
}
