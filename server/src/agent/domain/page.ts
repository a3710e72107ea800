import { message, type Language, type MessageKey } from './catalog.js';
import type { Heartbeat } from './health.js';
import type { QueuedReading } from './outbox.js';
import type { MeterProfile } from './profiles.js';

/**
 * The local page, server-rendered: plain HTML a phone on the home network shows without
 * JavaScript. Every word from the catalog, every value escaped.
 */
export interface PageView {
  readonly language: Language;
  readonly deviceId: string;
  readonly status: Heartbeat;
  readonly readings: readonly QueuedReading[];
  readonly claim: { readonly code: string; readonly url?: string | undefined } | undefined;
  readonly settings: { readonly ports: readonly string[]; readonly port: string | undefined; readonly profile: string; readonly profiles: readonly MeterProfile[]; readonly keySet: boolean; readonly authKeySet: boolean };
  readonly csrf: string;
  readonly notice?: { readonly kind: 'ok' | 'error'; readonly text: string } | undefined;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = 'body{font-family:system-ui,sans-serif;max-width:40rem;margin:auto;padding:1rem;line-height:1.4}'
  + 'table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.25rem;border-bottom:1px solid #ddd}'
  + 'label{display:block;margin-top:.75rem}input,select,button{font-size:1rem;padding:.4rem;max-width:100%}'
  + '.ok{color:#175e1f}.error{color:#a31515}';

function layout(language: Language, title: string, body: string): string {
  return `<!doctype html><html lang="${language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`
    + `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

const locale = (language: Language) => (language === 'de' ? 'de-AT' : 'en-GB');

function when(language: Language, iso: string | null): string {
  if (iso === null) return message(language, 'status.never');
  return new Intl.DateTimeFormat(locale(language), { dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(iso));
}

export function renderLogin(language: Language, deviceId: string, csrf: string, notice?: PageView['notice']): string {
  const t = (key: MessageKey, params?: Record<string, string | number>) => escapeHtml(message(language, key, params));
  return layout(language, message(language, 'page.title', { deviceId }),
    `<h2>${t('login.heading')}</h2>${noticeHtml(notice)}<p>${t('login.hint')}</p>`
    + `<form method="post" action="/login"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}">`
    + `<label>${t('login.pin')} <input name="pin" type="password" inputmode="numeric" autocomplete="off" required></label>`
    + `<button type="submit">${t('login.submit')}</button></form>`);
}

function noticeHtml(notice: PageView['notice']): string {
  return notice ? `<p class="${notice.kind}" role="status">${escapeHtml(notice.text)}</p>` : '';
}

export function renderStatusPage(view: PageView): string {
  const { language, status } = view;
  const t = (key: MessageKey, params?: Record<string, string | number>) => escapeHtml(message(language, key, params));
  const number = new Intl.NumberFormat(locale(language), { maximumFractionDigits: 3 });
  const row = (label: string, value: string) => `<tr><th scope="row">${label}</th><td>${value}</td></tr>`;
  const transport = `status.transport.${status.uplink.transport}` as MessageKey;
  const statusTable = `<h2>${t('status.heading')}</h2><table>`
    + row(t('status.connection'), t(transport))
    + row(t('status.queue'), t('status.queueValue', { readings: number.format(status.queue.readings), messages: number.format(status.queue.messages) }))
    + row(t('status.lastAck'), escapeHtml(when(language, status.uplink.lastAckAt)))
    + (status.uplink.lastError ? row(t('status.lastError'), escapeHtml(status.uplink.lastError)) : '')
    + '</table>';
  const meterTable = `<h2>${t('meter.heading')}</h2><table>`
    + row(t('meter.port'), status.serial.port ? escapeHtml(status.serial.port) : t('meter.portNone'))
    + row(t('meter.profile'), escapeHtml(status.serial.profile))
    + row(t('meter.lastFrame'), escapeHtml(when(language, status.serial.lastFrameAt)))
    + row(t('meter.rate'), number.format(status.serial.framesPerMinute))
    + row(t('meter.errors'), number.format(status.serial.checksumErrors))
    + '</table>';
  const readings = view.readings.length === 0
    ? `<p>${t('readings.none')}</p>`
    : `<table><tr><th>${t('readings.quantity')}</th><th>${t('readings.value')}</th><th>${t('readings.time')}</th></tr>${view.readings.map((r) =>
      `<tr><td>${escapeHtml(r.quantity)}</td><td>${escapeHtml(`${number.format(r.value)} ${r.unit}`)}</td><td>${escapeHtml(when(language, r.ts))}</td></tr>`).join('')}</table>`;
  const claim = view.claim
    ? `<h2>${t('claim.heading')}</h2>${view.claim.url ? `<p>${t('claim.text')} <a href="${escapeHtml(view.claim.url)}">${escapeHtml(view.claim.url)}</a></p>` : ''}<p>${t('claim.code')}: <strong>${escapeHtml(view.claim.code)}</strong></p>`
    : '';
  const s = view.settings;
  const option = (value: string, label: string, selected: boolean) => `<option value="${escapeHtml(value)}"${selected ? ' selected' : ''}>${escapeHtml(label)}</option>`;
  const ports = [...new Set([...(s.port ? [s.port] : []), ...s.ports])];
  const settings = `<h2>${t('settings.heading')}</h2><form method="post" action="/settings"><input type="hidden" name="csrf" value="${escapeHtml(view.csrf)}">`
    + `<label>${t('meter.port')} <select name="port">${option('', message(language, 'meter.portNone'), s.port === undefined)}${ports.map((p) => option(p, p, p === s.port)).join('')}</select></label>`
    + `<label>${t('meter.profile')} <select name="profile">${s.profiles.map((p) => option(p.name, `${p.name}: ${p.description}`, p.name === s.profile)).join('')}</select></label>`
    + `<label>${t('settings.key')} <input name="key" type="password" autocomplete="off" pattern="[0-9A-Fa-f]{32}"></label>${s.keySet ? `<p>${t('settings.keySet')}</p>` : ''}`
    + `<label>${t('settings.authKey')} <input name="authKey" type="password" autocomplete="off" pattern="[0-9A-Fa-f]{32}"></label>${s.authKeySet ? `<p>${t('settings.keySet')}</p>` : ''}`
    + `<label>${t('settings.language')} <select name="language">${option('en', 'English', language === 'en')}${option('de', 'Deutsch', language === 'de')}</select></label>`
    + `<button type="submit">${t('settings.save')}</button></form>`
    + `<form method="post" action="/logout"><input type="hidden" name="csrf" value="${escapeHtml(view.csrf)}"><button type="submit">${t('settings.logout')}</button></form>`;
  return layout(language, message(language, 'page.title', { deviceId: view.deviceId }),
    `${noticeHtml(view.notice)}${statusTable}${meterTable}<h2>${t('readings.heading')}</h2>${readings}${claim}${settings}`);
}
