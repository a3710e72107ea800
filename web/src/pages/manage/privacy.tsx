import { useState } from 'preact/hooks';
import { call } from '../../api/client.js';
import type { Retention, RetentionPolicy } from '@gridshare/contract/privacy';
import type { Community } from '@gridshare/contract/registry';
import { Async, Badge, Empty, ErrorNote, Field } from '../../components/ui.js';
import type { Formatter } from '../../lib/format.js';
import { useAction, useApi } from '../../lib/hooks.js';
import type { MessageKey } from '../../lib/i18n/index.js';
import { useI18n } from '../../lib/i18n/provider.js';
import { ERASURE_STATES, nameOf } from '../../lib/privacy.js';
import { Register } from '../privacy.js';
import { ManagePage } from './manage-page.js';

/** The community's privacy: its processing register, how long it keeps data, and its members' erasure requests. */
export default function ManagePrivacy({ params }: { params: Record<string, string> }) {
  const { t } = useI18n();
  return (
    <ManagePage communityId={params.communityId!} title={t('nav.privacy')}>
      {(c, fmt) => (
        <>
          <Register communityId={c.id} />
          <RetentionSettings community={c} />
          <Erasures community={c} fmt={fmt} />
        </>
      )}
    </ManagePage>
  );
}

const POLICY_FIELDS: readonly { field: keyof RetentionPolicy; label: MessageKey }[] = [
  { field: 'rawReadingsDays', label: 'privacy.retention.rawReadingsDays' },
  { field: 'intervalsDays', label: 'privacy.retention.intervalsDays' },
  { field: 'forecastsDays', label: 'privacy.retention.forecastsDays' },
  { field: 'accessLogDays', label: 'privacy.retention.accessLogDays' },
  { field: 'operationalLogsDays', label: 'privacy.retention.operationalLogsDays' },
  { field: 'exportFilesDays', label: 'privacy.retention.exportFilesDays' },
  { field: 'billingRecordsYears', label: 'privacy.retention.billingRecordsYears' },
];

function RetentionSettings({ community }: { community: Community }) {
  const { t } = useI18n();
  const register = useApi('processingRegister', { params: { id: community.id } });
  return (
    <section class="card" aria-labelledby="retention-heading">
      <h2 id="retention-heading">{t('privacy.retentionTitle')}</h2>
      <Async state={register} what={t('privacy.retentionTitle')}>
        {(r) => <RetentionForm community={community} retention={r.retention} />}
      </Async>
    </section>
  );
}

function RetentionForm({ community, retention }: { community: Community; retention: Retention }) {
  const { t } = useI18n();
  const action = useAction();
  const [saved, setSaved] = useState(false);
  const submit = (event: Event) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const policy = Object.fromEntries(POLICY_FIELDS.map(({ field }) => [field, Number(data.get(field))])) as RetentionPolicy;
    setSaved(false);
    void action.run(async () => {
      await call('putRetention', { params: { id: community.id }, body: policy });
      setSaved(true);
    });
  };
  return (
    <form onSubmit={submit}>
      <p class="muted">{t('privacy.retentionLegal', { years: retention.legal.billingRecordsYears, country: retention.legal.country, source: retention.legal.source })}</p>
      <div class="inline-form">
        {POLICY_FIELDS.map(({ field, label }) => (
          <Field key={field} id={`retention-${field}`} label={t(label)}>
            <input id={`retention-${field}`} name={field} type="number" min={field === 'billingRecordsYears' ? 0 : 1} step={1} required defaultValue={String(retention.policy[field])} />
          </Field>
        ))}
        <button type="submit" disabled={action.busy}>{t('privacy.retentionSave')}</button>
        <ErrorNote error={action.error} />
        {saved && <p role="status" class="ok">{t('privacy.retentionSaved')}</p>}
      </div>
    </form>
  );
}

function Erasures({ community, fmt }: { community: Community; fmt: Formatter }) {
  const { t } = useI18n();
  const requests = useApi('erasureRequests', { params: { id: community.id } });
  return (
    <section class="card" aria-labelledby="erasures-heading">
      <h2 id="erasures-heading">{t('privacy.erasuresTitle')}</h2>
      <Async state={requests} what={t('privacy.erasuresTitle')}>
        {(list) => list.length === 0 ? <Empty><p>{t('privacy.erasuresNone')}</p></Empty> : (
          <ul class="rows" aria-label={t('privacy.erasuresTitle')}>
            {list.map((e) => (
              <li key={e.id}>
                <div>
                  <strong>{e.pseudonym ?? e.memberId}</strong>{' '}
                  <Badge tone={e.state === 'done' ? 'good' : e.state === 'failed' ? 'bad' : 'warn'}>{nameOf(ERASURE_STATES, e.state, t)}</Badge>
                  <br /><small class="muted">{t('privacy.erasureDetail', {
                    requested: fmt.dateTime(e.requestedAt),
                    kept: e.finalDeletionAt ? fmt.date(e.finalDeletionAt) : '–',
                  })}</small>
                  {e.error && <><br /><small>{e.error}</small></>}
                </div>
              </li>
            ))}
          </ul>
        )}
      </Async>
    </section>
  );
}
