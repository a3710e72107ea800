import { BadRequestError } from '../../kernel/errors.js';
import { cachedTranslator, recipientLocale, type Language, type MessageKey, type MessageValues } from './catalog.js';
import { EVENTS, type EventParams, type NotificationEvent } from './events.js';
import { memo } from './memo.js';

/**
 * An event as an email in the recipient's language: subject, plain text and HTML from the same
 * messages, dates in the recipient's time zone and money in their locale's format (formatted
 * here, then passed into the message as text, as the web app does). Pure.
 */
export interface Recipient {
  readonly name: string;
  readonly email: string;
  /** The person's locale if they chose one, else the community's; BCP 47. */
  readonly locale?: string;
  readonly communityLocale?: string;
  readonly timeZone: string;
  readonly role: 'member' | 'manager' | 'admin';
}

export interface RenderedEmail {
  readonly event: NotificationEvent;
  readonly to: { readonly name: string; readonly address: string };
  readonly language: Language;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  readonly attachments: readonly { readonly filename: string; readonly contentType: string; readonly content: Uint8Array }[];
}

const EMAIL = /^[^\s@<>()[\]\\,;:"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** A deliverable address: one mailbox, no display name, no header tricks. */
export function checkEmailAddress(address: string): string {
  if (address.length > 254 || !EMAIL.test(address)) throw new BadRequestError(`not an email address: "${address}"`, 'email');
  return address;
}

function checkLink(link: string): string {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    throw new BadRequestError(`not an absolute link: "${link}"`, 'link');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new BadRequestError(`links are http(s) only: "${link}"`, 'link');
  return url.href;
}

/** One line of text from a value: a name with a line break cannot add a header or a paragraph. */
const oneLine = (value: string) => value.replace(/[\r\n\t\u2028\u2029]+/g, ' ').trim();

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

interface Formatters {
  readonly dateTime: (ms: number) => string;
  readonly day: (isoDate: string) => string;
  readonly month: (yearMonth: string) => string;
  readonly money: (amount: string, currency: string) => string;
}

/** Building Intl formatters costs far more than using them: one set per locale and zone, reused. */
const formattersFor = memo((key) => {
  const [locale, timeZone] = key.split('|') as [string, string];
  return formatters(locale, timeZone);
});

function formatters(locale: string, timeZone: string): Formatters {
  const dateTime = new Intl.DateTimeFormat(locale, { timeZone, dateStyle: 'long', timeStyle: 'short' });
  const day = new Intl.DateTimeFormat(locale, { timeZone: 'UTC', dateStyle: 'long' });
  const month = new Intl.DateTimeFormat(locale, { timeZone: 'UTC', year: 'numeric', month: 'long' });
  const money = new Map<string, Intl.NumberFormat>();
  const calendarDate = (text: string, pattern: RegExp) => {
    if (!pattern.test(text)) throw new BadRequestError(`not a date: "${text}"`);
    return Date.parse(`${text.length === 7 ? `${text}-01` : text}T00:00:00Z`);
  };
  return {
    dateTime: (ms) => {
      if (!Number.isFinite(ms)) throw new BadRequestError('not a time');
      return dateTime.format(ms);
    },
    day: (text) => day.format(calendarDate(text, /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/)),
    month: (text) => month.format(calendarDate(text, /^\d{4}-(0[1-9]|1[0-2])$/)),
    money: (amount, currency) => {
      if (!/^-?\d{1,15}(\.\d{1,9})?$/.test(amount)) throw new BadRequestError(`not an amount: "${amount}"`);
      let format = money.get(currency);
      if (!format) {
        format = new Intl.NumberFormat(locale, { style: 'currency', currency });
        money.set(currency, format);
      }
      // A decimal string is formatted exactly (Intl.NumberFormat v3): no float on the way.
      return format.format(amount as `${number}`);
    },
  };
}

type Values = Record<string, string | number>;

/** The message values of each event, formatted for the recipient, and its link. */
const VALUES: { [E in NotificationEvent]: (params: EventParams[E], f: Formatters) => { values: Values; link?: string } } = {
  'invitation': (p) => ({ values: { communityName: p.communityName, inviterName: p.inviterName }, link: p.link }),
  'join-approved': (p) => ({ values: { communityName: p.communityName }, link: p.link }),
  'join-rejected': (p) => ({ values: { communityName: p.communityName, hasReason: p.reason?.trim() ? 'yes' : 'no', reason: p.reason ?? '' } }),
  'statement-ready': (p, f) => {
    const negative = p.total.startsWith('-');
    const magnitude = negative ? p.total.slice(1) : p.total;
    const direction = /^0*(\.0*)?$/.test(magnitude) ? 'none' : negative ? 'credit' : 'owed';
    return {
      values: { communityName: p.communityName, period: f.month(p.period), invoiceNumber: p.invoiceNumber, total: f.money(magnitude, p.currency), dueDate: f.day(p.dueDate), direction },
      link: p.link,
    };
  },
  'payment-due': (p, f) => ({ values: { communityName: p.communityName, invoiceNumber: p.invoiceNumber, total: f.money(p.total, p.currency), dueDate: f.day(p.dueDate) }, link: p.link }),
  'payment-failed': (p, f) => ({ values: { communityName: p.communityName, invoiceNumber: p.invoiceNumber, total: f.money(p.total, p.currency), reasonCode: p.reasonCode }, link: p.link }),
  'device-offline': (p, f) => {
    if (!Number.isSafeInteger(p.thresholdMinutes) || p.thresholdMinutes < 1) throw new BadRequestError(`not a threshold in minutes: ${p.thresholdMinutes}`);
    return { values: { communityName: p.communityName, deviceName: p.deviceName, since: f.dateTime(p.sinceMs), thresholdMinutes: p.thresholdMinutes }, link: p.link };
  },
  'quarantined-quarter-hour': (p, f) => ({ values: { communityName: p.communityName, meteringPoint: p.meteringPoint, quarterHour: f.dateTime(p.quarterHourStartMs), reason: p.reason }, link: p.link }),
  'wallet-low-balance': (p, f) => ({ values: { communityName: p.communityName, balance: f.money(p.balance, p.currency), threshold: f.money(p.threshold, p.currency) }, link: p.link }),
  'password-reset': (p, f) => ({ values: { expiresAt: f.dateTime(p.expiresAtMs) }, link: p.link }),
  'email-verification': (p, f) => ({ values: { expiresAt: f.dateTime(p.expiresAtMs) }, link: p.link }),
};

const SECURITY: ReadonlySet<NotificationEvent> = new Set(['password-reset', 'email-verification', 'invitation']);

export function renderEmail<E extends NotificationEvent>(event: E, recipient: Recipient, params: EventParams[E]): RenderedEmail {
  const audience = EVENTS[event].audience;
  if (audience === 'manager' && recipient.role === 'member') throw new BadRequestError(`${event} goes to managers only`, 'recipient/role');
  const address = checkEmailAddress(recipient.email);
  const { language, locale } = recipientLocale(recipient.locale, recipient.communityLocale);
  const t = cachedTranslator(language, locale);
  const { values: raw, link: rawLink } = VALUES[event](params, formattersFor(`${locale}|${recipient.timeZone}`));
  const values: Values = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, typeof v === 'string' ? oneLine(v) : v]));
  const link = rawLink === undefined ? undefined : checkLink(rawLink);
  const communityName = typeof values.communityName === 'string' ? values.communityName : 'Gridshare';
  const key = (part: 'subject' | 'body' | 'action') => `email.${event}.${part}` as MessageKey;
  const name = oneLine(recipient.name);

  const subject = t(key('subject'), values);
  const paragraphs: { text: string; action?: string }[] = [
    { text: t('email.greeting', { name }) },
    { text: t(key('body'), values) },
    ...(link ? [{ text: t(key('action')), action: link }] : []),
    ...(SECURITY.has(event) ? [{ text: t('email.securityFooter') }] : []),
    { text: t('email.signature', { communityName }) },
  ];
  const footer = t('email.footer', { communityName });
  const text = [
    ...paragraphs.map((p) => (p.action ? `${p.text}: ${p.action}` : p.text)),
    '--',
    footer,
  ].join('\n\n');
  const html = [
    `<!DOCTYPE html><html lang="${language}"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body>`,
    ...paragraphs.map((p) => (p.action
      ? `<p><a href="${escapeHtml(p.action)}" style="display:inline-block;padding:10px 16px;background:#1f6f43;color:#fff;text-decoration:none;border-radius:4px">${escapeHtml(p.text)}</a></p><p style="font-size:small">${escapeHtml(t('email.linkFallback', { link: p.action }))}</p>`
      : `<p>${escapeHtml(p.text)}</p>`)),
    `<hr><p style="font-size:small;color:#555">${escapeHtml(footer)}</p></body></html>`,
  ].join('\n');

  const { pdf } = event === 'statement-ready' ? params as EventParams['statement-ready'] : { pdf: undefined };
  const attachments = pdf
    ? [(() => {
      if (!/^[\w.-]{1,100}\.pdf$/.test(pdf.filename)) throw new BadRequestError(`not a PDF file name: "${pdf.filename}"`, 'pdf/filename');
      if (Buffer.from(pdf.content.subarray(0, 5)).toString('latin1') !== '%PDF-') throw new BadRequestError('the attachment is not a PDF', 'pdf/content');
      return { filename: pdf.filename, contentType: 'application/pdf', content: pdf.content };
    })()]
    : [];
  return { event, to: { name, address }, language, subject, text, html, attachments };
}
