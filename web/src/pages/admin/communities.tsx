import { useState } from 'preact/hooks';
import { call } from '../../api/client.js';
import type { CommunityOverview } from '@gridshare/contract/admin';
import { Async, Badge, Empty, ErrorNote, Field } from '../../components/ui.js';
import type { Formatter } from '../../lib/format.js';
import { useAction, useApi } from '../../lib/hooks.js';
import { useI18n } from '../../lib/i18n/provider.js';
import { managePath } from '../../paths.js';
import { AdminPage, SearchForm } from './admin-page.js';

export default function Communities() {
  const [query, setQuery] = useState('');
  const communities = useApi('adminCommunities', { query: { q: query } });
  const { t } = useI18n();
  return (
    <AdminPage title={t('admin.communities')}>
      {(fmt) => (
        <>
          <CreateCommunity onCreated={communities.reload} />
          <section class="card" aria-labelledby="communities-heading">
            <h2 id="communities-heading">{t('admin.communities')}</h2>
            <SearchForm id="community-search" label={t('admin.searchCommunities')} onSearch={setQuery} />
            <Async state={communities} what={t('admin.communities')}>
              {(list) => list.length === 0 ? <Empty><p>{t('admin.noCommunities')}</p></Empty> : (
                <ul class="rows" aria-label={t('admin.communities')}>
                  {list.map((c) => <CommunityRow key={c.id} community={c} fmt={fmt} onChanged={communities.reload} />)}
                </ul>
              )}
            </Async>
          </section>
          <PlatformQuotas fmt={fmt} />
        </>
      )}
    </AdminPage>
  );
}

function CreateCommunity({ onCreated }: { onCreated: () => void }) {
  const { t } = useI18n();
  const action = useAction();
  const [created, setCreated] = useState<string>();
  const submit = (event: Event) => action.submit(event, async (v) => {
    const community = await call('adminCreateCommunity', {
      body: { name: v.name!, timeZone: v.timeZone!, currency: v.currency!.toUpperCase(), managerEmail: v.managerEmail! },
    });
    setCreated(community.name);
    onCreated();
  });
  return (
    <section class="card" aria-labelledby="create-heading">
      <h2 id="create-heading">{t('admin.createCommunity')}</h2>
      <form onSubmit={submit} class="inline-form">
        <Field id="new-name" label={t('admin.communityName')}><input id="new-name" name="name" required maxLength={120} /></Field>
        <Field id="new-zone" label={t('admin.timeZone')}><input id="new-zone" name="timeZone" required defaultValue="Europe/Vienna" /></Field>
        <Field id="new-currency" label={t('admin.currency')}><input id="new-currency" name="currency" required pattern="[A-Za-z]{3}" defaultValue="EUR" /></Field>
        <Field id="new-manager" label={t('admin.managerEmail')} hint={t('admin.managerEmailHint')}>
          <input id="new-manager" name="managerEmail" type="email" required aria-describedby="new-manager-hint" />
        </Field>
        <button type="submit" disabled={action.busy}>{t('admin.create')}</button>
      </form>
      {created && !action.error && <p role="status" class="ok">{t('admin.created', { name: created })}</p>}
      <ErrorNote error={action.error} />
    </section>
  );
}

function CommunityRow({ community: c, fmt, onChanged }: { community: CommunityOverview; fmt: Formatter; onChanged: () => void }) {
  const { t } = useI18n();
  const action = useAction();
  const suspend = (event: Event) => action.submit(event, async (v) => {
    await call('suspendCommunity', { params: { id: c.id }, body: { reason: v.reason! } });
    onChanged();
  });
  const resume = () => void action.run(async () => {
    await call('resumeCommunity', { params: { id: c.id } });
    onChanged();
  });
  return (
    <li data-community={c.name}>
      <div>
        <strong><a href={managePath(c.id)}>{c.name}</a></strong>{' '}
        <small class="muted">
          {t('admin.communityFigures', { members: fmt.count(c.memberCount), devices: fmt.count(c.deviceCount), created: fmt.date(c.createdAt) })}
        </small>{' '}
        {c.suspension && <Badge tone="warn">{t('admin.suspendedSince', { time: fmt.dateTime(c.suspension.at), reason: c.suspension.reason })}</Badge>}
      </div>
      <details>
        <summary>{t('admin.manageCommunity')}<span class="sr-only"> {c.name}</span></summary>
        <EditCommunity community={c} onChanged={onChanged} />
        <CommunityQuota communityId={c.id} fmt={fmt} />
        {c.suspension ? (
          <button type="button" disabled={action.busy} onClick={resume}>{t('admin.resume')}<span class="sr-only"> {c.name}</span></button>
        ) : (
          <form onSubmit={suspend} class="inline-form">
            <Field id={`reason-${c.id}`} label={t('admin.suspendReason')} hint={t('admin.suspendHint')}>
              <input id={`reason-${c.id}`} name="reason" required maxLength={500} aria-describedby={`reason-${c.id}-hint`} />
            </Field>
            <button type="submit" class="danger" disabled={action.busy}>{t('admin.suspend')}<span class="sr-only"> {c.name}</span></button>
          </form>
        )}
        <ErrorNote error={action.error} />
      </details>
    </li>
  );
}

function EditCommunity({ community: c, onChanged }: { community: CommunityOverview; onChanged: () => void }) {
  const { t } = useI18n();
  const action = useAction();
  const submit = (event: Event) => action.submit(event, async (v) => {
    await call('updateCommunity', { params: { id: c.id }, body: { name: v.name!, isPublic: v.isPublic === 'on' } });
    onChanged();
  });
  return (
    <form onSubmit={submit} class="inline-form">
      <Field id={`name-${c.id}`} label={t('admin.communityName')}><input id={`name-${c.id}`} name="name" required maxLength={120} defaultValue={c.name} /></Field>
      <label class="inline"><input type="checkbox" name="isPublic" defaultChecked={c.isPublic} /> {t('admin.public')}</label>
      <button type="submit" disabled={action.busy}>{t('admin.save')}</button>
      <ErrorNote error={action.error} />
    </form>
  );
}

/** The community's device limit: its own grant, or everyone's; empty puts it back to everyone's. */
function CommunityQuota({ communityId, fmt }: { communityId: string; fmt: Formatter }) {
  const { t } = useI18n();
  const quotas = useApi('communityQuotas', { params: { id: communityId } });
  const action = useAction();
  const submit = (event: Event) => action.submit(event, async (v) => {
    const limit = v.devicesPerCommunity!.trim();
    await call('setCommunityQuotas', { params: { id: communityId }, body: { devicesPerCommunity: limit === '' ? null : Number(limit) } });
    quotas.reload();
  });
  return (
    <Async state={quotas} what={t('admin.quotas')}>
      {(q) => (
        <form onSubmit={submit} class="inline-form">
          <Field
            id={`devices-${communityId}`} label={t('admin.deviceLimit')}
            hint={q.grants.devicesPerCommunity === undefined
              ? t('admin.quotaEveryone', { limit: fmt.count(q.limits.devicesPerCommunity) })
              : t('admin.quotaOwn', { limit: fmt.count(q.limits.devicesPerCommunity) })}
          >
            <input id={`devices-${communityId}`} name="devicesPerCommunity" type="number" min={0} max={1_000_000} step={1} aria-describedby={`devices-${communityId}-hint`} />
          </Field>
          <button type="submit" disabled={action.busy}>{t('admin.setQuota')}</button>
          <ErrorNote error={action.error} />
        </form>
      )}
    </Async>
  );
}

const PLATFORM_QUOTAS = ['communitiesPerUser', 'devicesPerCommunity', 'batchesPerHour'] as const;
const QUOTA_LABELS = {
  communitiesPerUser: 'admin.quota.communitiesPerUser',
  devicesPerCommunity: 'admin.quota.devicesPerCommunity',
  batchesPerHour: 'admin.quota.batchesPerHour',
} as const satisfies Record<(typeof PLATFORM_QUOTAS)[number], string>;

function PlatformQuotas({ fmt }: { fmt: Formatter }) {
  const { t } = useI18n();
  const quotas = useApi('platformQuotas', {});
  const action = useAction();
  const submit = (event: Event) => action.submit(event, async (v) => {
    const change = Object.fromEntries(PLATFORM_QUOTAS.filter((name) => v[name]?.trim()).map((name) => [name, Number(v[name])]));
    await call('setPlatformQuotas', { body: change });
    quotas.reload();
  });
  return (
    <section class="card" aria-labelledby="quotas-heading">
      <h2 id="quotas-heading">{t('admin.quotasForEveryone')}</h2>
      <Async state={quotas} what={t('admin.quotas')}>
        {(limits) => (
          <form onSubmit={submit} class="inline-form">
            {PLATFORM_QUOTAS.map((name) => (
              <Field key={name} id={`quota-${name}`} label={t(QUOTA_LABELS[name])} hint={t('admin.quotaNow', { limit: fmt.count(limits[name]) })}>
                <input id={`quota-${name}`} name={name} type="number" min={0} max={1_000_000} step={1} aria-describedby={`quota-${name}-hint`} />
              </Field>
            ))}
            <button type="submit" disabled={action.busy}>{t('admin.save')}</button>
            <ErrorNote error={action.error} />
          </form>
        )}
      </Async>
    </section>
  );
}
