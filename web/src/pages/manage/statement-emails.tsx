/**
 * A closed month's statements by email (PDF attached), from the settlement page: one button queues
 * an email per member (those emailed before, at closing too, are not sent again; another button
 * sends all again on purpose), the delivery log shows each email's state and the mail server's
 * last answer, and a failed one can be sent again.
 */
import { useState } from 'preact/hooks';
import type { Delivery } from '@gridshare/contract/notifications';
import { call } from '../../api/client.js';
import { Badge, Empty, ErrorNote } from '../../components/ui.js';
import type { Formatter } from '../../lib/format.js';
import { useAction, useApi } from '../../lib/hooks.js';
import type { MessageKey } from '../../lib/i18n/index.js';
import { useI18n } from '../../lib/i18n/provider.js';

type State = Delivery['state'];
const STATE_TEXT: Readonly<Record<State, MessageKey>> = {
  queued: 'statementEmails.state.queued', sent: 'statementEmails.state.sent', retrying: 'statementEmails.state.retrying', failed: 'statementEmails.state.failed',
};
const STATE_TONE: Readonly<Record<State, 'good' | 'bad' | 'warn' | 'neutral'>> = { queued: 'neutral', sent: 'good', retrying: 'warn', failed: 'bad' };

export function StatementEmails({ communityId, settlementId, fmt }: { communityId: string; settlementId: string; fmt: Formatter }) {
  const { t } = useI18n();
  const batch = `statements:${settlementId}`;
  const log = useApi('communityDeliveries', { params: { id: communityId }, query: { batch, limit: 1000 } }, { refreshMs: 5_000 });
  const action = useAction();
  const [result, setResult] = useState<{ queued: number; alreadySent: number } | undefined>();
  const send = (resend: boolean) => action.run(async () => {
    setResult(await call('sendStatementEmails', { params: { id: settlementId }, query: resend ? { resend: true } : {} }));
    log.reload();
  });
  const counts = log.data?.counts;
  const total = counts ? counts.queued + counts.sent + counts.retrying + counts.failed : 0;
  return (
    <section class="card" aria-labelledby="statement-emails-heading">
      <h2 id="statement-emails-heading">{t('statementEmails.title')}</h2>
      <p class="muted">{t('statementEmails.hint')}</p>
      <div class="actions">
        <button type="button" disabled={action.busy} onClick={() => void send(false)}>{t('statementEmails.send')}</button>
        <button type="button" class="secondary" disabled={action.busy}
          onClick={() => { if (confirm(t('statementEmails.resendAllConfirm'))) void send(true); }}>{t('statementEmails.resendAll')}</button>
      </div>
      {result && (
        <p role="status" data-testid="statement-emails-result">
          {t('statementEmails.result', { queued: fmt.count(result.queued), alreadySent: fmt.count(result.alreadySent) })}
        </p>
      )}
      <ErrorNote error={action.error ?? log.error} />
      {counts && total > 0 && (
        <p role="status" data-testid="statement-emails-progress">
          {t('statementEmails.progress', { sent: fmt.count(counts.sent), total: fmt.count(total), waiting: fmt.count(counts.queued + counts.retrying), failed: fmt.count(counts.failed) })}
          {' '}<progress max={total} value={counts.sent + counts.failed} />
        </p>
      )}
      {log.data && (log.data.deliveries.length === 0 ? <Empty><p>{t('statementEmails.none')}</p></Empty> : (
        <div class="table-scroll">
          <table class="stack">
            <caption class="sr-only">{t('statementEmails.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('statementEmails.recipient')}</th><th scope="col">{t('statementEmails.stateHeading')}</th>
                <th scope="col">{t('statementEmails.answer')}</th><th scope="col">{t('statementEmails.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {fmt.sortBy(log.data.deliveries, (d) => d.recipientName).map((d) => (
                <tr key={d.id}>
                  <td data-label={t('statementEmails.recipient')}>{d.recipientName} <small class="muted">{d.recipient}</small></td>
                  <td data-label={t('statementEmails.stateHeading')}>
                    <Badge tone={STATE_TONE[d.state]}>{t(STATE_TEXT[d.state])}</Badge>{' '}
                    <small class="muted">{d.sentAt ? fmt.dateTime(d.sentAt) : t('statementEmails.attempts', { count: d.attempts })}</small>
                  </td>
                  <td data-label={t('statementEmails.answer')}><small>{d.lastResponse ?? ''}</small></td>
                  <td data-label={t('statementEmails.actions')} class="actions">
                    {d.state === 'failed' && (
                      <button type="button" class="secondary" disabled={action.busy}
                        onClick={() => void action.run(async () => { await call('resendDelivery', { params: { id: d.id } }); log.reload(); })}>
                        {t('statementEmails.resend')}<span class="sr-only"> {d.recipientName}</span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </section>
  );
}
