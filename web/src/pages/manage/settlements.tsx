import { post } from '../../api/client.js';
import type { Settlement } from '../../api/sharing.js';
import { Async, Badge, Empty, ErrorNote, Field } from '../../components/ui.js';
import { formValues, useAction, useApi } from '../../lib/hooks.js';
import { previousPeriod } from '../../lib/time.js';
import { navigate } from '../../router.js';
import { ManagePage } from './manage-page.js';

export const settlementPath = (communityId: string, settlementId: string) => `/manage/${communityId}/settlements/${settlementId}`;

export default function Settlements({ params }: { params: Record<string, string> }) {
  const communityId = params.communityId!;
  const settlements = useApi<Settlement[]>(`/api/v1/communities/${communityId}/settlements`);
  const action = useAction();
  return (
    <ManagePage communityId={communityId} title="Settlement">
      {(community, fmt) => {
        const run = (event: Event) => {
          const { period } = formValues(event);
          void action.run(async () => {
            const settlement = await post<Settlement>(`/api/v1/communities/${communityId}/settlements`, { period });
            navigate(settlementPath(communityId, settlement.id));
          });
        };
        return (
          <>
            <section class="card" aria-labelledby="run-heading">
              <h2 id="run-heading">Run a settlement</h2>
              <p class="muted">Computes every member's statement for the month in {community.timeZone}. A draft can be run again; closing it makes the statements final.</p>
              <form onSubmit={run} class="inline-form">
                <Field id="period" label="Month to settle">
                  <input id="period" name="period" type="month" required defaultValue={previousPeriod(new Date(), community.timeZone)} />
                </Field>
                <button type="submit" disabled={action.busy}>{action.busy ? 'Settling…' : 'Run settlement'}</button>
                <ErrorNote error={action.error} />
              </form>
            </section>
            <section class="card" aria-labelledby="settlements-heading">
              <h2 id="settlements-heading">Settlements</h2>
              <Async state={settlements} what="settlements">
                {(list) => list.length === 0 ? <Empty><p>No month settled yet.</p></Empty> : (
                  <ul class="rows" aria-label="Settlements">
                    {list.map((s) => (
                      <li key={s.id}>
                        <div>
                          <a href={settlementPath(communityId, s.id)}>{fmt.month(s.period)}</a>{' '}
                          {s.state === 'closed' ? <Badge tone="good">closed</Badge> : <Badge tone="warn">draft</Badge>}
                        </div>
                        <small class="muted">
                          {fmt.count(s.totals.statements)} statements{s.totals.corrections > 0 ? `, ${fmt.count(s.totals.corrections)} corrections` : ''}
                          {' · '}total {fmt.money(s.totals.amount)} · run {fmt.dateTime(s.computedAt)}{s.closedAt ? ` · closed ${fmt.dateTime(s.closedAt)}` : ''}
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
