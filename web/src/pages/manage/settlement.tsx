import { call } from '../../api/client.js';
import { statementDownload } from '../../api/sharing.js';
import { Async, Empty, ErrorNote, Stat } from '../../components/ui.js';
import { useAction, useApi } from '../../lib/hooks.js';
import type { MessageKey } from '../../lib/i18n/index.js';
import { useI18n } from '../../lib/i18n/provider.js';
import { documentName } from '../../lib/names.js';
import { ManagePage } from './manage-page.js';
import { SettlementState } from './settlements.js';
import { InvoicesAndPayments } from './payments.js';
import { StatementEmails } from './statement-emails.js';

export default function SettlementDetail({ params }: { params: Record<string, string> }) {
  const communityId = params.communityId!;
  const settlementId = params.settlementId!;
  const settlement = useApi('getSettlement', { params: { id: settlementId } });
  const action = useAction();
  const { t } = useI18n();
  const recompute = (question: MessageKey) => {
    if (!window.confirm(t(question))) return;
    void action.run(async () => {
      await call('recomputeSettlement', { params: { id: settlementId } });
      settlement.reload();
    });
  };
  return (
    <ManagePage communityId={communityId} title={t('nav.settlement')}>
      {(_, fmt) => {
        // The closing guard: what the month lacks is named, per metering point, and the count confirmed is the one shown.
        const close = () => void action.run(async () => {
          const gaps = await call('settlementGaps', { params: { id: settlementId } });
          const complete = !gaps.noData && gaps.missingQuarterHours === 0;
          const missing = fmt.sortBy(gaps.points, (p) => `${p.memberName} ${p.meteringPointName}`)
            .map((p) => t('settlement.gapLine', { point: p.meteringPointName, member: p.memberName, count: p.missingQuarterHours, shown: fmt.count(p.missingQuarterHours) }));
          const question = complete ? t('settlement.confirmClose')
            : [gaps.noData ? t('settlement.confirmNoData') : t('settlement.confirmGaps', { count: gaps.missingQuarterHours, shown: fmt.count(gaps.missingQuarterHours) }), ...missing].join('\n');
          if (!window.confirm(question)) return;
          await call('closeSettlement', { params: { id: settlementId }, query: complete ? {} : { confirmMissing: gaps.missingQuarterHours } });
          settlement.reload();
        });
        return (
        <>
        <Async state={settlement} what={t('thing.settlement')}>
          {(s) => {
            // The running month is never offered for closing (the API refuses it too).
            const running = Date.parse(s.periodEnd) > Date.now();
            return (
            <section class="card" aria-labelledby="settlement-heading">
              <h2 id="settlement-heading">
                {fmt.month(s.period)} <SettlementState state={s.state} />
              </h2>
              <p class="muted">
                {t('settlement.history', {
                  created: fmt.dateTime(s.createdAt),
                  computed: s.computedAt !== s.createdAt ? fmt.dateTime(s.computedAt) : 'none',
                  closed: s.closedAt ? fmt.dateTime(s.closedAt) : 'none',
                })}
              </p>
              <dl class="stats" data-testid="settlement-totals">
                <Stat label={t('statements.total')} value={fmt.money(s.totals.amount)} detail={t('settlement.totalDetail')} />
                <Stat label={t('settlement.statements')} value={fmt.count(s.totals.statements)}
                  detail={s.totals.corrections > 0 ? t('settlement.andCorrections', { count: s.totals.corrections }) : undefined} />
                <Stat label={t('settlement.communityEnergy')} value={fmt.energy(s.totals.fromCommunityWh)} detail={t('settlement.supplied', { energy: fmt.energy(s.totals.toCommunityWh) })} />
              </dl>
              {running && <p class="muted" data-testid="settlement-running">{t('settlement.running', { end: fmt.dateTime(s.periodEnd) })}</p>}
              <div class="row-actions">
                {s.state === 'draft' && !running && (
                  <button type="button" disabled={action.busy} onClick={close}>{t('settlement.close')}</button>
                )}
                <button type="button" class="secondary" disabled={action.busy}
                  onClick={() => recompute(s.state === 'closed' ? 'settlement.confirmCorrections' : 'settlement.confirmRerun')}>
                  {s.state === 'closed' ? t('settlement.issueCorrections') : t('settlement.rerun')}
                </button>
              </div>
              <ErrorNote error={action.error} />
              {s.statements.length === 0 ? <Empty><p>{t('settlement.noStatements')}</p></Empty> : (
                <div class="table-scroll">
                  <table class="stack">
                    <caption class="sr-only">{t('settlement.caption', { month: fmt.month(s.period) })}</caption>
                    <thead>
                      <tr>
                        <th scope="col">{t('overview.member')}</th><th scope="col">{t('statements.document')}</th>
                        <th scope="col" class="num">{t('statements.total')}</th><th scope="col">{t('statements.download')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {fmt.sortBy(s.statements, (st) => st.displayName).map((st) => {
                        const document = documentName(st, t);
                        const name = t('statements.documentOf', { kind: st.kind, sequence: st.sequence, of: st.displayName });
                        return (
                          <tr key={st.id}>
                            <td data-label={t('overview.member')}>{st.displayName}</td>
                            <td data-label={t('statements.document')}>{document}</td>
                            <td data-label={t('statements.total')} class="num">{fmt.money(st.total)}</td>
                            <td data-label={t('statements.download')} class="actions">
                              <a href={statementDownload(st.id, 'pdf', t.locale)} download>{t('statements.pdf')}<span class="sr-only"> {name}</span></a>
                              <a href={statementDownload(st.id, 'csv', t.locale)} download>{t('statements.csv')}<span class="sr-only"> {name}</span></a>
                            </td>
                          </tr>
                        );
                      })}
                    </tbody>
                  </table>
                </div>
              )}
            </section>
            );
          }}
        </Async>
        {settlement.data?.state === 'closed' && <InvoicesAndPayments settlementId={settlementId} fmt={fmt} />}
        {settlement.data?.state === 'closed' && <StatementEmails communityId={communityId} settlementId={settlementId} fmt={fmt} />}
        </>
        );
      }}
    </ManagePage>
  );
}
