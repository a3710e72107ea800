import { useState } from 'preact/hooks';
import type { BankStatementImport, InvoicePayment } from '@gridshare/contract/billing';
import { call } from '../../api/client.js';
import { downloadSepaFile, invoicePdfDownload } from '../../api/billing.js';
import { Async, Empty, ErrorNote, Field } from '../../components/ui.js';
import { PAYMENT_LABELS, PaymentBadge } from '../../components/payment.js';
import type { Formatter } from '../../lib/format.js';
import { formValues, useAction, useApi } from '../../lib/hooks.js';
import { useI18n } from '../../lib/i18n/provider.js';

type Status = InvoicePayment['status'];
const STATUSES: Status[] = ['open', 'paid', 'partial', 'failed'];

/** A closed month's invoices: payment status (by hand or from the bank's camt.053), SEPA files. */
export function InvoicesAndPayments({ settlementId, fmt }: { settlementId: string; fmt: Formatter }) {
  const { t, locale } = useI18n();
  const payments = useApi('settlementPayments', { params: { id: settlementId } });
  const column = {
    number: t('invoices.number'), member: t('payments.member'), total: t('invoices.total'), status: t('payments.status'), sepa: t('payments.sepa'),
  };
  return (
    <section class="card" aria-labelledby="payments-heading">
      <h2 id="payments-heading">{t('payments.heading')}</h2>
      <Async state={payments} what={t('thing.invoices')}>
        {(list) => list.length === 0 ? <Empty><p>{t('payments.none')}</p></Empty> : (
          <>
            <SepaFiles settlementId={settlementId} />
            <div class="table-scroll">
              <table class="stack" data-testid="settlement-invoices">
                <caption class="sr-only">{t('payments.heading')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{column.number}</th><th scope="col">{column.member}</th><th scope="col" class="num">{column.total}</th>
                    <th scope="col">{column.status}</th><th scope="col">{column.sepa}</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((p) => (
                    <tr key={p.invoiceId}>
                      <td data-label={column.number}>
                        <a href={invoicePdfDownload(p.invoiceId, locale)} download aria-label={t('invoices.pdfOf', { number: p.number })}>{p.number}</a>
                      </td>
                      <td data-label={column.member}>{p.buyerName}</td>
                      <td data-label={column.total} class="num">{fmt.money(p.gross)}</td>
                      <td data-label={column.status}>
                        <PaymentBadge status={p.status} /> {p.history.length > 0 && <small class="muted">{t('payments.history', { count: p.history.length })}</small>}
                        <StatusForm payment={p} onSaved={payments.reload} />
                      </td>
                      <td data-label={column.sepa}>
                        {p.sepa === 'direct-debit' ? t('payments.directDebit') : p.sepa === 'credit-transfer' ? t('payments.creditTransfer') : <small class="muted">{p.sepaSkipped ?? ''}</small>}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <BankStatement settlementId={settlementId} fmt={fmt} onApplied={payments.reload} />
          </>
        )}
      </Async>
    </section>
  );
}

/** The month's SEPA files; a refusal (nothing to collect, a file the server would not issue) is said here. */
function SepaFiles({ settlementId }: { settlementId: string }) {
  const { t } = useI18n();
  const action = useAction();
  const download = (kind: 'direct-debits' | 'credit-transfers') => () => void action.run(() => downloadSepaFile(settlementId, kind));
  return (
    <>
      <p class="row-actions">
        <button type="button" class="link" disabled={action.busy} onClick={download('direct-debits')}>{t('payments.downloadDebits')}</button>
        <button type="button" class="link" disabled={action.busy} onClick={download('credit-transfers')}>{t('payments.downloadCredits')}</button>
      </p>
      <ErrorNote error={action.error} />
    </>
  );
}

function StatusForm({ payment, onSaved }: { payment: InvoicePayment; onSaved: () => void }) {
  const { t } = useI18n();
  const action = useAction();
  const [status, setStatus] = useState<Status>(payment.status);
  const id = `payment-${payment.invoiceId}`;
  const submit = (event: Event) => {
    const values = formValues(event);
    void action.run(async () => {
      await call('setPaymentStatus', {
        params: { id: payment.invoiceId },
        body: { status, ...(status === 'partial' ? { settled: values.settled ?? '' } : {}), ...(values.reason ? { reason: values.reason } : {}) },
      });
      onSaved();
    });
  };
  return (
    <form class="inline" onSubmit={submit} aria-label={t('payments.statusOf', { number: payment.number })}>
      <select id={`${id}-status`} name="status" value={status} aria-label={t('payments.status')} onChange={(e) => setStatus((e.currentTarget as HTMLSelectElement).value as Status)}>
        {STATUSES.map((s) => <option key={s} value={s}>{t(PAYMENT_LABELS[s])}</option>)}
      </select>
      {status === 'partial' && <input name="settled" inputMode="decimal" required aria-label={t('payments.settled')} placeholder={t('payments.settled')} />}
      {(status === 'failed' || status === 'partial') && <input name="reason" required={status === 'failed'} aria-label={t('payments.reason')} placeholder={t('payments.reason')} />}
      <button type="submit" class="secondary" disabled={action.busy}>{t('payments.save')}</button>
      <ErrorNote error={action.error} />
    </form>
  );
}

/** A camt.053 file: its matches shown first, recorded only when the manager applies them. */
function BankStatement({ settlementId, fmt, onApplied }: { settlementId: string; fmt: Formatter; onApplied: () => void }) {
  const { t } = useI18n();
  const action = useAction();
  const [file, setFile] = useState<File | undefined>(undefined);
  const [preview, setPreview] = useState<BankStatementImport | undefined>(undefined);
  const send = (apply: boolean) => void action.run(async () => {
    if (!file) return;
    const result = await call('importBankStatement', { params: { id: settlementId }, query: { apply }, raw: { contentType: 'application/xml', data: file } });
    setPreview(result);
    if (apply) onApplied();
  });
  const changes = preview?.matches.filter((m) => m.changes).length ?? 0;
  return (
    <div class="subsection">
      <Field id="camt-file" label={t('payments.upload')}>
        <input id="camt-file" type="file" accept=".xml,application/xml,text/xml" onChange={(e) => { setFile((e.currentTarget as HTMLInputElement).files?.[0]); setPreview(undefined); }} />
      </Field>
      <p class="row-actions">
        <button type="button" class="secondary" disabled={!file || action.busy} onClick={() => send(false)}>{t('payments.preview')}</button>
        {preview && !preview.applied && changes > 0 && <button type="button" disabled={action.busy} onClick={() => send(true)}>{t('payments.apply', { count: changes })}</button>}
      </p>
      <ErrorNote error={action.error} />
      {preview && (
        <div data-testid="camt-preview">
          {preview.applied && <p role="status">{t('payments.applied')}</p>}
          <h3>{t('payments.matches')}</h3>
          <ul>
            {preview.matches.map((m) => (
              <li key={m.invoiceId}>
                {m.number} · {m.buyerName} · {fmt.money(m.settled)} · {m.changes ? t('payments.change', { before: t(PAYMENT_LABELS[m.before]), after: t(PAYMENT_LABELS[m.status]) }) : t('payments.unchanged')}
              </li>
            ))}
          </ul>
          {preview.unmatched.length > 0 && (
            <>
              <h3>{t('payments.unmatched')}</h3>
              <ul>{preview.unmatched.map((u, i) => <li key={i}>{fmt.day(u.bookingDate)} · {fmt.money(u.direction === 'debit' ? `-${u.amount}` : u.amount)} · {u.remittance || u.endToEndId} · {u.reason}</li>)}</ul>
            </>
          )}
        </div>
      )}
    </div>
  );
}
