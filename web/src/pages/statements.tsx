import { statementDownload, type MemberStatement } from '../api/sharing.js';
import { Async, Badge, Empty, Page } from '../components/ui.js';
import { useMemberContext } from '../lib/context.js';
import type { Formatter } from '../lib/format.js';
import { useApi } from '../lib/hooks.js';
import { useFormat } from '../session.js';

export default function Statements({ params }: { params: Record<string, string> }) {
  const memberId = params.memberId!;
  const { member, community } = useMemberContext(memberId);
  const fmt = useFormat(community.data);
  const statements = useApi<MemberStatement[]>(member.data ? `/api/v1/members/${memberId}/statements` : null);
  return (
    <Async state={member} what="member">
      {(m) => (
        <Page title={`Statements of ${m.displayName}`}>
          <Async state={statements} what="statements">
            {(list) => <StatementList statements={list} fmt={fmt} />}
          </Async>
        </Page>
      )}
    </Async>
  );
}

export function StatementList({ statements, fmt }: { statements: MemberStatement[]; fmt: Formatter }) {
  if (statements.length === 0) {
    return <Empty><p>No statements yet. Your community's manager settles each month; its statement then appears here.</p></Empty>;
  }
  return (
    <div class="card table-scroll">
      <table class="stack">
        <caption>Your statements, newest month first</caption>
        <thead>
          <tr><th scope="col">Period</th><th scope="col">Document</th><th scope="col" class="num">Total</th><th scope="col">State</th><th scope="col">Issued</th><th scope="col">Download</th></tr>
        </thead>
        <tbody>
          {statements.map((s) => {
            const document = s.kind === 'correction' ? `Correction ${s.sequence}` : 'Statement';
            const name = `${document.toLowerCase()} of ${fmt.month(s.period)}`;
            return (
              <tr key={s.id}>
                <td data-label="Period">{fmt.month(s.period)}</td>
                <td data-label="Document">{document}</td>
                <td data-label="Total" class="num">{fmt.money(s.total)}</td>
                <td data-label="State">{s.state === 'closed' ? <Badge tone="good">final</Badge> : <Badge tone="warn">draft</Badge>}</td>
                <td data-label="Issued">{fmt.date(s.createdAt)}</td>
                <td data-label="Download" class="actions">
                  <a href={statementDownload(s.id, 'pdf')} download>PDF<span class="sr-only"> of the {name}</span></a>
                  <a href={statementDownload(s.id, 'csv')} download>CSV<span class="sr-only"> of the {name}</span></a>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
