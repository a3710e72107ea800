import { useState } from 'preact/hooks';
import { apiUrl, call, send } from '../../api/client.js';
import type { MaskingRules, MaskingRuleSet, Retention, RetentionPolicy } from '@gridshare/contract/privacy';
import type { Community } from '@gridshare/contract/registry';
import { Async, Badge, Empty, ErrorNote, Field } from '../../components/ui.js';
import { parseCsv } from '../../lib/csv.js';
import type { Formatter } from '../../lib/format.js';
import { formValues, useAction, useApi } from '../../lib/hooks.js';
import type { MessageKey } from '../../lib/i18n/index.js';
import { useI18n } from '../../lib/i18n/provider.js';
import { ERASURE_STATES, EXPORT_JOB_KINDS, EXPORT_JOB_STATES, MASKED_EXPORT_NAMES, MASKING_RULE_NAMES, nameOf, REQUESTER_KINDS } from '../../lib/privacy.js';
import { midnightOfDateInput } from '../../lib/time.js';
import { Register } from '../privacy.js';
import { ManagePage } from './manage-page.js';
import { DateInput } from '../../components/date-input.js';

/** The community's privacy: its processing register, how long it keeps data, how its exports are masked, and its members' erasure requests. */
export default function ManagePrivacy({ params }: { params: Record<string, string> }) {
  const { t } = useI18n();
  return (
    <ManagePage communityId={params.communityId!} title={t('nav.privacy')}>
      {(c, fmt) => (
        <>
          <Register communityId={c.id} />
          <RetentionSettings community={c} />
          <Masking community={c} />
          <Erasures community={c} fmt={fmt} />
          <ExportJobs community={c} fmt={fmt} />
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

/** Every export job of the community, members' included: whose, who asked, state and progress, when; a member's file is never offered here. */
function ExportJobs({ community, fmt }: { community: Community; fmt: Formatter }) {
  const { t } = useI18n();
  const jobs = useApi('communityExportJobOverview', { params: { id: community.id } });
  const column = {
    what: t('privacy.exportJobsWhat'), who: t('privacy.exportJobsWho'), state: t('privacy.exportJobsState'),
    requested: t('privacy.exportJobsRequested'), finished: t('privacy.exportJobsFinished'),
  };
  return (
    <section class="card" aria-labelledby="export-jobs-heading">
      <h2 id="export-jobs-heading">{t('privacy.exportJobsTitle')}</h2>
      <p class="muted">{t('privacy.exportJobsIntro')}</p>
      <Async state={jobs} what={t('privacy.exportJobsTitle')}>
        {(list) => list.length === 0 ? <Empty><p>{t('privacy.exportJobsNone')}</p></Empty> : (
          <div class="table-scroll">
            <table class="stack">
              <caption class="sr-only">{t('privacy.exportJobsTitle')}</caption>
              <thead><tr>
                <th scope="col">{column.what}</th><th scope="col">{column.who}</th><th scope="col">{column.state}</th>
                <th scope="col">{column.requested}</th><th scope="col">{column.finished}</th>
              </tr></thead>
              <tbody>
                {list.map((j) => (
                  <tr key={j.id}>
                    <td data-label={column.what}>{nameOf(EXPORT_JOB_KINDS, j.export, t)}</td>
                    <td data-label={column.who}>{j.requestedBy} <small class="muted">({nameOf(REQUESTER_KINDS, j.requesterKind, t)})</small></td>
                    <td data-label={column.state}>
                      <Badge tone={j.state === 'done' ? 'good' : j.state === 'failed' ? 'bad' : 'warn'}>{nameOf(EXPORT_JOB_STATES, j.state, t)}</Badge>{' '}
                      {j.itemsTotal !== null && <small>{t('privacy.exportJobsProgress', { done: j.itemsDone, total: j.itemsTotal })}</small>}
                      {j.error && <><br /><small>{j.error}</small></>}
                    </td>
                    <td data-label={column.requested}>{fmt.dateTime(j.requestedAt)}</td>
                    <td data-label={column.finished}>{j.finishedAt ? fmt.dateTime(j.finishedAt) : '–'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Async>
    </section>
  );
}

/** Per export: the rule for each field (only the rules that fit the field's type offered), and the masked download. */
function Masking({ community }: { community: Community }) {
  const { t } = useI18n();
  const masking = useApi('maskingRules', { params: { id: community.id } });
  return (
    <section class="card" aria-labelledby="masking-heading">
      <h2 id="masking-heading">{t('privacy.masking.title')}</h2>
      <p class="muted">{t('privacy.masking.intro')}</p>
      <Async state={masking} what={t('privacy.masking.title')}>
        {(m) => <>{m.sets.map((set) => <RuleSetForm key={set.export.name} community={community} rules={m.rules} set={set} onSaved={masking.reload} />)}</>}
      </Async>
    </section>
  );
}

function RuleSetForm({ community, rules, set, onSaved }: { community: Community; rules: MaskingRules['rules']; set: MaskingRuleSet; onSaved: () => void }) {
  const { t } = useI18n();
  const action = useAction();
  const [saved, setSaved] = useState(false);
  const [period, setPeriod] = useState<{ from: string; to: string }>({ from: '', to: '' });
  const id = (field: string) => `mask-${set.export.name}-${field}`;
  const fits = (type: string) => rules.filter((r) => r.appliesTo.length === 0 || r.appliesTo.includes(type));
  // Not action.submit: it resets the form, which showed the rules from before the save.
  const submit = (event: Event) => {
    const v = formValues(event);
    void action.run(async () => {
      setSaved(false);
      // Only the fields whose rule differs from "other fields" are named: the set stays as short as the manager's choice.
      const otherFields = v.otherFields === 'drop' ? 'drop' : 'keep';
      const fields = Object.fromEntries(set.export.fields.flatMap((f) => (v[`field:${f.name}`] && v[`field:${f.name}`] !== otherFields ? [[f.name, v[`field:${f.name}`]!]] : [])));
      await call('putMaskingRuleSet', { params: { id: community.id }, body: { export: set.export.name, name: v.name ?? '', fields, otherFields } });
      setSaved(true);
      onSaved();
    });
  };
  const preview = useAction();
  const [shown, setShown] = useState<{ header: string[]; rows: string[][]; total: number } | undefined>(undefined);
  const query = period.from && period.to
    ? { from: midnightOfDateInput(period.from, community.timeZone).toISOString(), to: midnightOfDateInput(period.to, community.timeZone).toISOString() }
    : undefined;
  const download = query ? apiUrl('regulatorExport', { params: { id: community.id }, query }) : undefined;
  return (
    <form onSubmit={submit} aria-labelledby={id('heading')}>
      <h3 id={id('heading')}>{nameOf(MASKED_EXPORT_NAMES, set.export.name, t)}</h3>
      {set.isDefault && <p class="muted">{t('privacy.masking.default')}</p>}
      <table>
        <thead><tr><th scope="col">{t('privacy.masking.field')}</th><th scope="col">{t('privacy.masking.rule')}</th></tr></thead>
        <tbody>
          {set.export.fields.map((f) => (
            <tr key={f.name}>
              <td><label for={id(f.name)}><code>{f.name}</code></label></td>
              <td>
                {/* The option is marked selected: a select has no defaultValue in the DOM, so that showed the first rule whatever the set said. */}
                <select id={id(f.name)} name={`field:${f.name}`}>
                  {fits(f.type).map((r) => (
                    <option key={r.name} value={r.name} selected={r.name === (set.ruleSet.fields[f.name] ?? set.ruleSet.otherFields)}>{nameOf(MASKING_RULE_NAMES, r.name, t)}</option>
                  ))}
                </select>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="inline-form">
        <Field id={id('other')} label={t('privacy.masking.otherFields')}>
          <select id={id('other')} name="otherFields">
            <option value="keep" selected={set.ruleSet.otherFields === 'keep'}>{nameOf(MASKING_RULE_NAMES, 'keep', t)}</option>
            <option value="drop" selected={set.ruleSet.otherFields === 'drop'}>{nameOf(MASKING_RULE_NAMES, 'drop', t)}</option>
          </select>
        </Field>
        <Field id={id('name')} label={t('privacy.masking.name')}>
          <input id={id('name')} name="name" required maxLength={64} pattern="[A-Za-z0-9][A-Za-z0-9 ._\-]*" defaultValue={set.ruleSet.name} />
        </Field>
        <button type="submit" disabled={action.busy}>{t('privacy.masking.save')}</button>
        <ErrorNote error={action.error} />
        {saved && <p role="status" class="ok">{t('privacy.masking.saved')}</p>}
      </div>
      <div class="inline-form">
        <Field id={id('from')} label={t('privacy.masking.from')}>
          <DateInput id={id('from')} value={period.from} onValue={(day) => setPeriod((current) => ({ ...current, from: day }))} />
        </Field>
        <Field id={id('to')} label={t('privacy.masking.to')}>
          <DateInput id={id('to')} value={period.to} onValue={(day) => setPeriod((current) => ({ ...current, to: day }))} />
        </Field>
        {download ? <a class="button secondary" href={download} download>{t('privacy.masking.download')}</a> : <small class="muted">{t('privacy.masking.choosePeriod')}</small>}
        {query && <button type="button" class="secondary" disabled={preview.busy} onClick={() => void preview.run(async () => {
          // The export itself, as the server masks it (and logs it in the members' access logs).
          const rows = parseCsv(await (await send('regulatorExport', { params: { id: community.id }, query })).text());
          setShown({ header: rows[0] ?? [], rows: rows.slice(1, 1 + PREVIEW_ROWS), total: Math.max(0, rows.length - 1) });
        })}>{t('privacy.masking.preview')}</button>}
      </div>
      <ErrorNote error={preview.error} />
      {shown && (
        <div class="table-scroll" role="region" aria-label={t('privacy.masking.previewTitle')}>
          <table>
            <caption>{t('privacy.masking.previewTitle')}</caption>
            <thead><tr>{shown.header.map((h) => <th key={h} scope="col"><code>{h}</code></th>)}</tr></thead>
            <tbody>{shown.rows.map((r, i) => <tr key={i}>{r.map((cell, j) => <td key={j}>{cell}</td>)}</tr>)}</tbody>
          </table>
          <p class="muted">{t('privacy.masking.previewRows', { shown: shown.rows.length, total: shown.total })}</p>
        </div>
      )}
    </form>
  );
}

/** Rows a preview shows of the masked export. */
const PREVIEW_ROWS = 10;
