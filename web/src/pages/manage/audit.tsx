import { useState } from 'preact/hooks';
import { AUDIT_KINDS } from '@gridshare/contract/audit';
import { apiUrl, type Answer } from '../../api/client.js';
import { Empty, ErrorNote, Field, Loading } from '../../components/ui.js';
import { useApi } from '../../lib/hooks.js';
import { useI18n } from '../../lib/i18n/provider.js';
import type { MessageKey } from '../../lib/i18n/index.js';
import { midnightOfDateInput, shiftDay } from '../../lib/time.js';
import { ManagePage } from './manage-page.js';
import { DateInput } from '../../components/date-input.js';

type Kind = (typeof AUDIT_KINDS)[number];
type Role = Answer<'communityAudit'>['entries'][number]['actor']['role'];

const KIND_LABELS: Record<Kind, MessageKey> = {
  'community': 'audit.kind.community', 'tariff': 'audit.kind.tariff', 'sharing-rule': 'audit.kind.sharingRule', 'share': 'audit.kind.share',
  'member': 'audit.kind.member', 'device': 'audit.kind.device', 'settlement': 'audit.kind.settlement', 'quota': 'audit.kind.quota',
  'consent': 'audit.kind.consent', 'role': 'audit.kind.role', 'metering-point': 'audit.kind.meteringPoint', 'invitation': 'audit.kind.invitation',
  'device-batch': 'audit.kind.deviceBatch', 'connector': 'audit.kind.connector', 'market': 'audit.kind.market', 'wallet': 'audit.kind.wallet',
  'retention': 'audit.kind.retention', 'erasure': 'audit.kind.erasure',
  'account': 'audit.kind.account',
  'job': 'audit.kind.job',
  'key': 'audit.kind.key',
  'coefficients': 'audit.kind.coefficients',
  'co2-intensity': 'audit.kind.co2Intensity',
  masking: 'audit.kind.masking',
  'weather-source': 'audit.kind.weatherSource',
  'plan-objective': 'audit.kind.planObjective',
  'device-control': 'audit.kind.deviceControl',
  'appliance-request': 'audit.kind.applianceRequest',
  'agent-limits': 'audit.kind.agentLimits',
  'flex': 'audit.kind.flex',
  'command': 'audit.kind.command',
  'operator-import': 'audit.kind.operatorImport',
  'billing-profile': 'audit.kind.billingProfile',
  'billing-details': 'audit.kind.billingDetails',
  'sepa-mandate': 'audit.kind.sepaMandate',
  'payment': 'audit.kind.payment',
};
const ROLE_LABELS: Record<Role, MessageKey> = {
  admin: 'audit.role.admin', manager: 'audit.role.manager', member: 'audit.role.member', user: 'audit.role.user', system: 'audit.role.system',
};

const PAGE_SIZE = 50;

/** The days picked (what the inputs show) and the filters as the API's query (empty ones left out). */
interface Filters {
  fromDay: string;
  toDay: string;
  query: { kind?: Kind; userId?: string; from?: string; to?: string };
}
const NO_FILTERS: Filters = { fromDay: '', toDay: '', query: {} };

/**
 * The form's filters; a day is the community's day (as the times in the list are shown), `to`
 * includes its day, so the API's exclusive end is the next day's start.
 */
function filtersOf(form: FormData, timeZone: string): Filters {
  const text = (name: string) => String(form.get(name) ?? '');
  const [kind, userId, fromDay, toDay] = [text('kind'), text('userId'), text('from'), text('to')];
  return {
    fromDay, toDay,
    query: {
      ...(kind ? { kind: kind as Kind } : {}),
      ...(userId ? { userId } : {}),
      ...(fromDay ? { from: midnightOfDateInput(fromDay, timeZone).toISOString() } : {}),
      ...(toDay ? { to: midnightOfDateInput(shiftDay(toDay, 1), timeZone).toISOString() } : {}),
    },
  };
}

/**
 * The community's audit trail for its managers: who changed what and when, newest first, filtered
 * by kind, person and period, page by page (the API's `next` cursor), and as CSV with the same filters.
 */
export default function AuditPage({ params }: { params: Record<string, string> }) {
  const { t } = useI18n();
  const communityId = params.communityId!;
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  // The `before` cursor of each page shown so far; the last is the current page (undefined: the newest).
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const { query } = filters;
  const page = useApi('communityAudit', { params: { id: communityId }, query: { ...query, limit: PAGE_SIZE, ...(cursor ? { before: cursor } : {}) } });
  const members = useApi('listMembers', { params: { id: communityId } });
  const names = new Map((members.data ?? []).map((m) => [m.userId, m.displayName]));

  const apply = (event: Event, timeZone: string) => {
    event.preventDefault();
    setFilters(filtersOf(new FormData(event.currentTarget as HTMLFormElement), timeZone));
    setCursors([undefined]);
  };

  return (
    <ManagePage communityId={communityId} title={t('nav.audit')}>
      {(c, fmt) => (
        <section class="card" aria-labelledby="audit-heading">
          <h2 id="audit-heading">{t('audit.title')}</h2>
          <p class="muted">{t('audit.intro')}</p>
          <form class="filters" aria-label={t('audit.filters')} onSubmit={(event) => apply(event, c.timeZone)}>
            <Field label={t('audit.kind')} id="audit-kind">
              <select id="audit-kind" name="kind" value={query.kind ?? ''}>
                <option value="">{t('audit.allKinds')}</option>
                {AUDIT_KINDS.map((kind) => <option value={kind}>{t(KIND_LABELS[kind])}</option>)}
              </select>
            </Field>
            <Field label={t('audit.person')} id="audit-person">
              <select id="audit-person" name="userId" value={query.userId ?? ''}>
                <option value="">{t('audit.everyone')}</option>
                {(members.data ?? []).map((m) => <option value={m.userId}>{m.displayName}</option>)}
              </select>
            </Field>
            <Field label={t('audit.from')} id="audit-from">
              <DateInput id="audit-from" name="from" value={filters.fromDay} />
            </Field>
            <Field label={t('audit.to')} id="audit-to">
              <DateInput id="audit-to" name="to" value={filters.toDay} />
            </Field>
            <button type="submit">{t('audit.apply')}</button>
          </form>
          <p><a href={apiUrl('communityAuditCsv', { params: { id: communityId }, query })} download>{t('audit.downloadCsv')}</a></p>
          {page.error ? <ErrorNote error={page.error} /> : !page.data ? <Loading what={t('audit.title')} /> : page.data.entries.length === 0
            ? <Empty><p>{t('audit.empty')}</p></Empty>
            : (
              <table data-testid="audit-entries">
                <thead>
                  <tr>
                    <th scope="col">{t('audit.when')}</th><th scope="col">{t('audit.who')}</th><th scope="col">{t('audit.kind')}</th>
                    <th scope="col">{t('audit.action')}</th><th scope="col">{t('audit.resource')}</th><th scope="col">{t('audit.changes')}</th>
                  </tr>
                </thead>
                <tbody>
                  {page.data.entries.map((entry) => (
                    <tr data-kind={entry.kind}>
                      <td>{fmt.dateTime(entry.at)}</td>
                      <td>
                        {entry.actor.userId ? (names.get(entry.actor.userId) ?? <code>{entry.actor.userId}</code>) : null}
                        {' '}<span class="muted">{t('audit.asRole', { role: t(ROLE_LABELS[entry.actor.role]) })}</span>
                      </td>
                      <td>{t(KIND_LABELS[entry.kind])}</td>
                      <td><code>{entry.action}</code></td>
                      <td><code>{entry.resourceId}</code></td>
                      <td>
                        <ul class="plain">
                          {entry.diff.map((line) => (
                            <li>
                              {t('audit.change', { path: line.path, before: line.before ?? t('audit.nothing'), after: line.after ?? t('audit.nothing') })}
                            </li>
                          ))}
                        </ul>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          <p class="actions">
            {cursors.length > 1 && <button type="button" onClick={() => setCursors(cursors.slice(0, -1))}>{t('audit.newer')}</button>}
            {page.data?.next && <button type="button" onClick={() => setCursors([...cursors, page.data!.next!])}>{t('audit.older')}</button>}
          </p>
        </section>
      )}
    </ManagePage>
  );
}
