import { ApiError } from '../api/client.js';
import { statementDownload, type MemberStatement } from '../api/sharing.js';
import { Async, Badge, Empty, ErrorNote, Loading, Page } from '../components/ui.js';
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
          {statements.error instanceof ApiError && statements.error.missingRoute
            ? <Empty><p>This server does not issue statements yet. They appear here once your community settles a month.</p></Empty>
            : statements.error
              ? <ErrorNote error={statements.error} />
              : statements.data
                ? <StatementList statements={statements.data} fmt={fmt} />
                : <Loading what="statements" />}
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
    <div class="table-scroll">
      <table>
        <caption>Your statements, newest first</caption>
        <thead>
          <tr><th scope="col">Period</th><th scope="col">Kind</th><th scope="col" class="num">Total</th><th scope="col">State</th><th scope="col">Download</th></tr>
        </thead>
        <tbody>
          {statements.map((s) => (
            <tr key={s.id}>
              <td>{fmt.month(s.period)}</td>
              <td>{s.kind === 'correction' ? 'Correction' : 'Statement'}</td>
              <td class="num">{fmt.money(s.total)}</td>
              <td>{s.state === 'closed' ? <Badge tone="good">final</Badge> : <Badge tone="warn">draft</Badge>}</td>
              <td class="actions">
                <a href={statementDownload(s.id, 'pdf')} download>PDF<span class="sr-only"> of {fmt.month(s.period)}</span></a>
                <a href={statementDownload(s.id, 'csv')} download>CSV<span class="sr-only"> of {fmt.month(s.period)}</span></a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
