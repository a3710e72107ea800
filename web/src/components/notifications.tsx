/**
 * The notification bell in the header: how many are unread, the latest ones in the person's
 * language (each opens where it is about), marking one or all read. The server keeps the values
 * of each message (names, periods, amounts with their currency, instants); they are formatted here.
 */
import { useState } from 'preact/hooks';
import type { Notification, NotificationEventName } from '@gridshare/contract/notifications';
import { call } from '../api/client.js';
import { formatter } from '../lib/format.js';
import { useAction, useApi } from '../lib/hooks.js';
import type { MessageKey } from '../lib/i18n/index.js';
import { useI18n } from '../lib/i18n/provider.js';
import { ErrorNote } from './ui.js';

/** What each event says in the list. */
const EVENT_TEXT: Readonly<Record<NotificationEventName, MessageKey>> = {
  'invitation': 'notifications.event.invitation',
  'join-approved': 'notifications.event.join-approved',
  'join-rejected': 'notifications.event.join-rejected',
  'statement-ready': 'notifications.event.statement-ready',
  'payment-due': 'notifications.event.payment-due',
  'payment-failed': 'notifications.event.payment-failed',
  'device-offline': 'notifications.event.device-offline',
  'quarantined-quarter-hour': 'notifications.event.quarantined-quarter-hour',
  'wallet-low-balance': 'notifications.event.wallet-low-balance',
};

/** Each event's name where a person chooses what they get. */
export const EVENT_NAME: Readonly<Record<NotificationEventName, MessageKey>> = {
  'invitation': 'notifications.name.invitation',
  'join-approved': 'notifications.name.join-approved',
  'join-rejected': 'notifications.name.join-rejected',
  'statement-ready': 'notifications.name.statement-ready',
  'payment-due': 'notifications.name.payment-due',
  'payment-failed': 'notifications.name.payment-failed',
  'device-offline': 'notifications.name.device-offline',
  'quarantined-quarter-hour': 'notifications.name.quarantined-quarter-hour',
  'wallet-low-balance': 'notifications.name.wallet-low-balance',
};

const isEvent = (event: string): event is NotificationEventName => Object.hasOwn(EVENT_TEXT, event);

/** The message's values as the reader reads them: money in its currency, periods, days and instants in their locale. */
function useMessage() {
  const { t, locale } = useI18n();
  return (n: Notification): string => {
    if (!isEvent(n.event)) return t('notifications.event.other');
    const p = n.params;
    const fmt = formatter({ locale, ...(typeof p.currency === 'string' ? { currency: p.currency } : {}) });
    const values: Record<string, string | number> = { ...p };
    for (const field of ['total', 'balance', 'threshold'] as const) if (typeof p[field] === 'string') values[field] = fmt.money(p[field]);
    if (typeof p.period === 'string') values.period = fmt.month(p.period);
    if (typeof p.dueDate === 'string') values.dueDate = fmt.day(p.dueDate);
    if (typeof p.quarterHourStartMs === 'number') values.quarterHour = fmt.dateTime(new Date(p.quarterHourStartMs).toISOString());
    if (typeof p.sinceMs === 'number') values.since = fmt.dateTime(new Date(p.sinceMs).toISOString());
    return t(EVENT_TEXT[n.event], values);
  };
}

export function NotificationBell() {
  const { t, locale } = useI18n();
  const list = useApi('listNotifications', { query: { limit: 20 } }, { refreshMs: 60_000 });
  const action = useAction();
  const [open, setOpen] = useState(false);
  const message = useMessage();
  const fmt = formatter({ locale });
  const unread = list.data?.unread ?? 0;
  const markRead = (id: string) => action.run(async () => {
    await call('markNotificationRead', { params: { id } });
    list.reload();
  });
  return (
    <div class="bell">
      <button type="button" class="secondary" aria-expanded={open} aria-controls="notification-list" onClick={() => setOpen(!open)}
        aria-label={t('notifications.bellUnread', { count: unread })}>
        {t('notifications.bell')}{unread > 0 && <span class="badge badge-warn" aria-hidden="true">{fmt.count(unread)}</span>}
      </button>
      {open && (
        <section id="notification-list" class="card bell-list" aria-label={t('notifications.title')}>
          {list.data && list.data.items.length === 0 && <p class="muted">{t('notifications.none')}</p>}
          <ul class="rows">
            {list.data?.items.map((n) => (
              <li key={n.id} class={n.readAt ? 'read' : 'unread'}>
                <div>
                  {n.link ? <a href={n.link} onClick={() => { if (!n.readAt) void markRead(n.id); setOpen(false); }}>{message(n)}</a> : message(n)}
                  <br /><small class="muted">{fmt.dateTime(n.createdAt)}</small>
                </div>
                {!n.readAt && (
                  <button type="button" class="link" disabled={action.busy} onClick={() => void markRead(n.id)}>{t('notifications.markRead')}</button>
                )}
              </li>
            ))}
          </ul>
          {unread > 0 && (
            <button type="button" class="secondary" disabled={action.busy}
              onClick={() => void action.run(async () => { await call('markAllNotificationsRead', {}); list.reload(); })}>
              {t('notifications.markAllRead')}
            </button>
          )}
          <ErrorNote error={action.error} />
        </section>
      )}
    </div>
  );
}
