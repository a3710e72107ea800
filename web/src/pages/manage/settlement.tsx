import { post } from '../../api/client.js';
import { statementDownload, type Settlement } from '../../api/sharing.js';
import { Async, Badge, Empty, ErrorNote } from '../../components/ui.js';
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
              <p class="muted">Run {fmt.dateTime(s.createdAt)}{s.closedAt ? `, closed ${fmt.dateTime(s.closedAt)}` : ''}.</p>
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
              {!s.statements?.length ? <Empty><p>No statements in this settlement.</p></Empty> : (
                <div class="table-scroll">
                  <table>
                    <thead><tr><th scope="col">Member</th><th scope="col">Kind</th><th scope="col" class="num">Total</th><th scope="col">Download</th></tr></thead>
                    <tbody>
                      {s.statements.map((st) => (
                        <tr key={st.id}>
                          <td>{st.displayName}</td>
                          <td>{st.kind}</td>
                          <td class="num">{fmt.money(st.total)}</td>
                          <td class="actions">
                            <a href={statementDownload(st.id, 'pdf')} download>PDF<span class="sr-only"> for {st.displayName}</span></a>
                            <a href={statementDownload(st.id, 'csv')} download>CSV<span class="sr-only"> for {st.displayName}</span></a>
                          </td>
                        </tr>
                      ))}
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
