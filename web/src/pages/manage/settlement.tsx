import { post } from '../../api/client.js';
import { statementDownload, type Settlement } from '../../api/sharing.js';
import { Async, Badge, Empty, ErrorNote, Stat } from '../../components/ui.js';
import { useAction, useApi } from '../../lib/hooks.js';
import { ManagePage } from './manage-page.js';

export default function SettlementDetail({ params }: { params: Record<string, string> }) {
  const communityId = params.communityId!;
  const settlement = useApi<Settlement>(`/api/v1/settlements/${params.settlementId}`);
  const action = useAction();
  const act = (what: 'close' | 'recompute', question: string) => {
    if (!window.confirm(question)) return;
    void action.run(async () => {
      await post<Settlement>(`/api/v1/settlements/${params.settlementId}/${what}`);
      settlement.reload();
    });
  };
  return (
    <ManagePage communityId={communityId} title="Settlement">
      {(_, fmt) => (
        <Async state={settlement} what="settlement">
          {(s) => (
            <section class="card" aria-labelledby="settlement-heading">
              <h2 id="settlement-heading">
                {fmt.month(s.period)} {s.state === 'closed' ? <Badge tone="good">closed</Badge> : <Badge tone="warn">draft</Badge>}
              </h2>
              <p class="muted">
                First run {fmt.dateTime(s.createdAt)}{s.computedAt !== s.createdAt ? `, last computed ${fmt.dateTime(s.computedAt)}` : ''}{s.closedAt ? `, closed ${fmt.dateTime(s.closedAt)}` : ''}.
              </p>
              <dl class="stats" data-testid="settlement-totals">
                <Stat label="Total" value={fmt.money(s.totals.amount)} detail="the statements added up (negative amounts are owed to members)" />
                <Stat label="Statements" value={fmt.count(s.totals.statements)} detail={s.totals.corrections > 0 ? `and ${fmt.count(s.totals.corrections)} corrections` : undefined} />
                <Stat label="Community energy" value={fmt.energy(s.totals.fromCommunityWh)} detail={`${fmt.energy(s.totals.toCommunityWh)} supplied by producers`} />
              </dl>
              <div class="row-actions">
                {s.state === 'draft' && (
                  <button type="button" disabled={action.busy} onClick={() => act('close', 'Close this settlement? Its statements become final.')}>Close settlement</button>
                )}
                <button type="button" class="secondary" disabled={action.busy}
                  onClick={() => act('recompute', s.state === 'closed' ? 'Issue corrections for members whose figures changed?' : 'Run this draft again?')}>
                  {s.state === 'closed' ? 'Issue corrections' : 'Run again'}
                </button>
              </div>
              <ErrorNote error={action.error} />
              {s.statements.length === 0 ? <Empty><p>No statements in this settlement.</p></Empty> : (
                <div class="table-scroll">
                  <table class="stack">
                    <caption class="sr-only">Statements of {fmt.month(s.period)}</caption>
                    <thead><tr><th scope="col">Member</th><th scope="col">Document</th><th scope="col" class="num">Total</th><th scope="col">Download</th></tr></thead>
                    <tbody>
                      {s.statements.map((st) => {
                        const document = st.kind === 'correction' ? `Correction ${st.sequence}` : 'Statement';
                        const name = `${document.toLowerCase()} of ${st.displayName}`;
                        return (
                          <tr key={st.id}>
                            <td data-label="Member">{st.displayName}</td>
                            <td data-label="Document">{document}</td>
                            <td data-label="Total" class="num">{fmt.money(st.total)}</td>
                            <td data-label="Download" class="actions">
                              <a href={statementDownload(st.id, 'pdf')} download>PDF<span class="sr-only"> of the {name}</span></a>
                              <a href={statementDownload(st.id, 'csv')} download>CSV<span class="sr-only"> of the {name}</span></a>
                            </td>
                          </tr>
                        );
                      })}
                    </tbody>
                  </table>
                </div>
              )}
            </section>
          )}
        </Async>
      )}
    </ManagePage>
  );
}
