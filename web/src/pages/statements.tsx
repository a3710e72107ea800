import type { MemberStatement } from '@gridshare/contract/billing';
import { statementDownload } from '../api/sharing.js';
import { invoicePdfDownload } from '../api/billing.js';
import { PaymentBadge } from '../components/payment.js';
import { Async, Badge, Empty, Page } from '../components/ui.js';
import { BillingDetailsForm, MandateText } from '../components/billing.js';
import { useMemberContext } from '../lib/context.js';
import type { Formatter } from '../lib/format.js';
import { useApi } from '../lib/hooks.js';
import { useI18n } from '../lib/i18n/provider.js';
import { documentName } from '../lib/names.js';
import { statementVerifyPath } from '../paths.js';
import { useFormat } from '../session.js';

export default function Statements({ params }: { params: Record<string, string> }) {
  const memberId = params.memberId!;
  const { member, community } = useMemberContext(memberId);
  const fmt = useFormat(community.data);
  const { t } = useI18n();
  const statements = useApi('memberStatements', member.data ? { params: { id: memberId } } : null);
  return (
    <Async state={member} what={t('thing.member')}>
      {(m) => (
        <Page title={t('statements.title', { name: m.displayName })}>
          <Async state={statements} what={t('thing.statements')}>
            {(list) => <StatementList statements={list} fmt={fmt} memberId={memberId} />}
          </Async>
          <Invoices memberId={memberId} fmt={fmt} />
          <BillingAddress memberId={memberId} name={m.displayName} country={community.data?.country ?? ''} fmt={fmt} />
        </Page>
      )}
    </Async>
  );
}

export function StatementList({ statements, fmt, memberId }: { statements: MemberStatement[]; fmt: Formatter; memberId: string }) {
  const { t } = useI18n();
  if (statements.length === 0) {
    return <Empty><p>{t('statements.none')}</p></Empty>;
  }
  const column = {
    period: t('statements.period'), document: t('statements.document'), total: t('statements.total'),
    state: t('statements.state'), issued: t('statements.issued'), download: t('statements.download'),
  };
  return (
    <div class="card table-scroll">
      <table class="stack">
        <caption>{t('statements.caption')}</caption>
        <thead>
          <tr>
            <th scope="col">{column.period}</th><th scope="col">{column.document}</th><th scope="col" class="num">{column.total}</th>
            <th scope="col">{column.state}</th><th scope="col">{column.issued}</th><th scope="col">{column.download}</th>
          </tr>
        </thead>
        <tbody>
          {statements.map((s) => {
            const document = documentName(s, t);
            const name = t('statements.documentOf', { kind: s.kind, sequence: s.sequence, of: fmt.month(s.period) });
            return (
              <tr key={s.id}>
                <td data-label={column.period}>{fmt.month(s.period)}</td>
                <td data-label={column.document}>{document}</td>
                <td data-label={column.total} class="num">{fmt.money(s.total)}</td>
                <td data-label={column.state}>{s.state === 'closed' ? <Badge tone="good">{t('statements.final')}</Badge> : <Badge tone="warn">{t('statements.draft')}</Badge>}</td>
                <td data-label={column.issued}>{fmt.date(s.createdAt)}</td>
                <td data-label={column.download} class="actions">
                  <a href={statementDownload(s.id, 'pdf', t.locale)} download>{t('statements.pdf')}<span class="sr-only"> {name}</span></a>
                  <a href={statementDownload(s.id, 'csv', t.locale)} download>{t('statements.csv')}<span class="sr-only"> {name}</span></a>
                  {s.state === 'closed' && <a href={statementVerifyPath(memberId, s.id)}>{t('statements.verify')}<span class="sr-only"> {name}</span></a>}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The member's invoices with their payment status; nothing where the community issues statements only. */
function Invoices({ memberId, fmt }: { memberId: string; fmt: Formatter }) {
  const { t, locale } = useI18n();
  const invoices = useApi('memberInvoices', { params: { id: memberId } });
  const column = { number: t('invoices.number'), issued: t('invoices.issued'), due: t('invoices.due'), total: t('invoices.total'), payment: t('invoices.payment') };
  return (
    <Async state={invoices} what={t('thing.invoices')}>
      {(list) => list.length > 0 && (
        <div class="card table-scroll">
          <table class="stack" data-testid="member-invoices">
            <caption>{t('invoices.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{column.number}</th><th scope="col">{column.issued}</th><th scope="col">{column.due}</th>
                <th scope="col" class="num">{column.total}</th><th scope="col">{column.payment}</th>
              </tr>
            </thead>
            <tbody>
              {list.map((invoice) => (
                <tr key={invoice.id}>
                  <td data-label={column.number}>
                    <a href={invoicePdfDownload(invoice.id, locale)} download aria-label={t('invoices.pdfOf', { number: invoice.number })}>{invoice.number}</a>
                    {invoice.corrects && <small class="muted"> {t('invoices.corrects', { number: invoice.corrects })}</small>}
                  </td>
                  <td data-label={column.issued}>{fmt.day(invoice.issueDate)}</td>
                  <td data-label={column.due}>{fmt.day(invoice.dueDate)}</td>
                  <td data-label={column.total} class="num">{fmt.money(invoice.totals.gross)}</td>
                  <td data-label={column.payment}><PaymentBadge status={invoice.payment.status} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Async>
  );
}

/** The name and address the member's invoices are made out to, which they keep themselves; their mandate as the manager recorded it. */
function BillingAddress({ memberId, name, country, fmt }: { memberId: string; name: string; country: string; fmt: Formatter }) {
  const { t } = useI18n();
  const billing = useApi('getBillingDetails', { params: { id: memberId } });
  return (
    <section class="card" aria-labelledby="billing-address-heading">
      <h2 id="billing-address-heading">{t('billing.yourAddress')}</h2>
      <p class="muted">{t('billing.yourAddressIntro')}</p>
      <Async state={billing} what={t('billing.address')}>
        {({ details, mandate }) => (
          <>
            <BillingDetailsForm memberId={memberId} details={details} defaultName={name} defaultCountry={country} onSaved={billing.reload} />
            <p class="muted" data-testid="own-mandate">{t('billing.mandate')}: <MandateText mandate={mandate} fmt={fmt} /></p>
          </>
        )}
      </Async>
    </section>
  );
}
