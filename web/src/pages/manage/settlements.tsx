import { call } from '../../api/client.js';
import type { Settlement } from '@gridshare/contract/billing';
import { Async, Badge, Empty, ErrorNote, Field } from '../../components/ui.js';
import { formValues, useAction, useApi } from '../../lib/hooks.js';
import { useI18n } from '../../lib/i18n/provider.js';
import { previousPeriod } from '../../lib/time.js';
import { navigate } from '../../router.js';
import { ManagePage } from './manage-page.js';
import { DateInput } from '../../components/date-input.js';

export const settlementPath = (communityId: string, settlementId: string) => `/manage/${communityId}/settlements/${settlementId}`;

export function SettlementState({ state }: { state: Settlement['state'] }) {
  const { t } = useI18n();
  return state === 'closed' ? <Badge tone="good">{t('settlements.closed')}</Badge> : <Badge tone="warn">{t('statements.draft')}</Badge>;
}

export default function Settlements({ params }: { params: Record<string, string> }) {
  const communityId = params.communityId!;
  const settlements = useApi('listSettlements', { params: { id: communityId } });
  const action = useAction();
  const { t } = useI18n();
  return (
    <ManagePage communityId={communityId} title={t('nav.settlement')}>
      {(community, fmt) => {
        const run = (event: Event) => {
          const { period } = formValues(event);
          void action.run(async () => {
            const settlement = await call('runSettlement', { params: { id: communityId }, body: { period: period! } });
            navigate(settlementPath(communityId, settlement.id));
          });
        };
        return (
          <>
            <section class="card" aria-labelledby="run-heading">
              <h2 id="run-heading">{t('settlements.run')}</h2>
              <p class="muted">{t('settlements.intro', { timeZone: community.timeZone })}</p>
              <form onSubmit={run} class="inline-form">
                <Field id="period" label={t('settlements.month')}>
                  <DateInput id="period" name="period" type="month" required value={previousPeriod(new Date(), community.timeZone)} />
                </Field>
                <button type="submit" disabled={action.busy}>{action.busy ? t('settlements.settling') : t('settlements.submit')}</button>
                <ErrorNote error={action.error} />
              </form>
            </section>
            <section class="card" aria-labelledby="settlements-heading">
              <h2 id="settlements-heading">{t('settlements.title')}</h2>
              <Async state={settlements} what={t('thing.settlements')}>
                {(list) => list.length === 0 ? <Empty><p>{t('settlements.none')}</p></Empty> : (
                  <ul class="rows" aria-label={t('settlements.title')}>
                    {list.map((s) => (
                      <li key={s.id}>
                        <div>
                          <a href={settlementPath(communityId, s.id)}>{fmt.month(s.period)}</a>{' '}
                          <SettlementState state={s.state} />
                        </div>
                        <small class="muted">
                          {t('settlements.statements', { count: s.totals.statements })}
                          {s.totals.corrections > 0 ? `, ${t('settlements.corrections', { count: s.totals.corrections })}` : ''}
                          {' · '}{t('settlements.total', { amount: fmt.money(s.totals.amount) })}
                          {' · '}{t('settlements.runAt', { time: fmt.dateTime(s.computedAt) })}
                          {s.closedAt ? ` · ${t('settlements.closedAt', { time: fmt.dateTime(s.closedAt) })}` : ''}
                        </small>
                      </li>
                    ))}
                  </ul>
                )}
              </Async>
            </section>
          </>
        );
      }}
    </ManagePage>
  );
}
