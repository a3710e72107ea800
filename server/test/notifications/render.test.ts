import { describe, expect, it } from 'vitest';
import { CATALOGS, recipientLocale } from '../../src/notifications/domain/catalog.js';
import { emailsTo, EVENTS, NOTIFICATION_EVENTS, wants } from '../../src/notifications/domain/events.js';
import { renderEmail, type Recipient } from '../../src/notifications/domain/render.js';
import { BadRequestError } from '../../src/kernel/errors.js';
import { PDF, SAMPLE } from './samples.js';

const member: Recipient = { name: 'Anna Muster', email: 'anna@example.org', timeZone: 'Europe/Vienna', role: 'member' };
const manager: Recipient = { ...member, name: 'Maria Huber', email: 'maria@example.org', role: 'manager' };

describe('email messages', () => {
  it('has every key in English and German, and every event renders in both without a placeholder left', () => {
    expect(Object.keys(CATALOGS.de).sort()).toEqual(Object.keys(CATALOGS.en).sort());
    for (const event of NOTIFICATION_EVENTS) {
      for (const locale of ['en-GB', 'de-AT']) {
        const to = EVENTS[event].audience === 'manager' ? manager : member;
        const email = renderEmail(event, { ...to, locale }, SAMPLE[event] as never);
        expect(email.language).toBe(locale.slice(0, 2));
        for (const part of [email.subject, email.text, email.html]) expect(part, `${event} ${locale}`).not.toMatch(/[{}]|email\./);
      }
    }
  });

  it('writes in the recipient\'s language, time zone and number format', () => {
    const de = renderEmail('statement-ready', { ...member, locale: 'de-AT' }, SAMPLE['statement-ready']);
    expect(de.subject).toBe('Ihre Abrechnung für Oktober 2026 (SUN-2026-00042)');
    // Austrian German puts the euro sign first: "€ 1.234,56"; German German after: "1.234,56 €".
    expect(de.text).toContain('Zu zahlen: €\u00a01.234,56, bis 17. November 2026.');
    expect(renderEmail('payment-due', { ...member, locale: 'de-DE' }, SAMPLE['payment-due']).text).toContain('über 11,56\u00a0€ war am 17. November 2026 fällig');
    expect(de.html).toContain('<html lang="de">');
    const en = renderEmail('statement-ready', { ...member, locale: 'en-GB' }, { ...SAMPLE['statement-ready'], total: '-4.59' });
    expect(en.subject).toBe('Your statement for October 2026 (SUN-2026-00042)');
    expect(en.text).toContain('Total credited to you: €4.59, by 17 November 2026.');
    // 17:30 UTC is 18:30 in Vienna.
    expect(renderEmail('device-offline', { ...member, locale: 'en-GB' }, SAMPLE['device-offline']).subject).toBe('Meter reader 07 has been offline since 3 November 2026 at 18:30');
    expect(renderEmail('device-offline', { ...member, locale: 'de' }, { ...SAMPLE['device-offline'], thresholdMinutes: 90 }).text).toContain('länger als 90 Minuten');
    expect(renderEmail('device-offline', { ...member, locale: 'de' }, SAMPLE['device-offline']).text).toContain('länger als 1 Minute.');
  });

  it('quotes a rejection reason only where the manager gave one', () => {
    expect(renderEmail('join-rejected', member, SAMPLE['join-rejected']).text).toContain('The manager wrote: Outside our grid area');
    expect(renderEmail('join-rejected', member, { ...SAMPLE['join-rejected'], reason: 'none' }).text).toContain('The manager wrote: none');
    expect(renderEmail('join-rejected', member, { communityName: 'EEG Sonnenstraße' }).text).not.toContain('manager wrote');
  });

  it('chooses the person\'s language, then the community\'s, then English', () => {
    expect(recipientLocale('fr-FR', 'de-AT')).toEqual({ language: 'de', locale: 'de-AT' });
    expect(recipientLocale(undefined, 'de')).toEqual({ language: 'de', locale: 'de' });
    expect(recipientLocale('not a locale!', undefined)).toEqual({ language: 'en', locale: 'en' });
    expect(renderEmail('join-approved', { ...member, communityLocale: 'de-DE' }, SAMPLE['join-approved']).subject).toBe('Willkommen bei EEG Sonnenstraße');
  });

  it('keeps hostile values in their place: no header lines, no markup, no foreign links', () => {
    const email = renderEmail('invitation', { ...member, name: 'Eve\r\nBcc: all@example.org' }, { ...SAMPLE.invitation, inviterName: '<script>alert(1)</script>\nX-Evil: 1' });
    expect(email.subject).not.toMatch(/[\r\n]/);
    expect(email.to.name).toBe('Eve Bcc: all@example.org');
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; X-Evil: 1');
    const refused = (f: () => unknown) => expect(f).toThrow(BadRequestError);
    refused(() => renderEmail('invitation', member, { ...SAMPLE.invitation, link: 'javascript:alert(1)' }));
    refused(() => renderEmail('invitation', member, { ...SAMPLE.invitation, link: '/relative' }));
    refused(() => renderEmail('password-reset', member, { ...SAMPLE['password-reset'], expiresAtMs: Number.NaN }));
    refused(() => renderEmail('invitation', { ...member, email: 'anna@example.org, eve@example.org' }, SAMPLE.invitation));
    refused(() => renderEmail('invitation', { ...member, email: 'no-at-sign' }, SAMPLE.invitation));
    refused(() => renderEmail('quarantined-quarter-hour', member, SAMPLE['quarantined-quarter-hour']));
    refused(() => renderEmail('statement-ready', member, { ...SAMPLE['statement-ready'], pdf: { filename: 'x.pdf', content: new Uint8Array([1, 2, 3]) } }));
    refused(() => renderEmail('statement-ready', member, { ...SAMPLE['statement-ready'], pdf: { filename: '../../etc/passwd', content: PDF } }));
    refused(() => renderEmail('statement-ready', member, { ...SAMPLE['statement-ready'], total: '1e3' }));
    refused(() => renderEmail('statement-ready', member, { ...SAMPLE['statement-ready'], dueDate: '2026-02-30x' }));
    refused(() => renderEmail('device-offline', member, { ...SAMPLE['device-offline'], thresholdMinutes: Number.NaN }));
  });

  it('lets people switch off what they may, never security messages', () => {
    const preferences = { 'statement-ready': { email: false }, 'password-reset': { email: false } } as const;
    expect(wants(preferences, 'statement-ready', 'email')).toBe(false);
    expect(wants(preferences, 'statement-ready', 'in-app')).toBe(true);
    expect(wants(preferences, 'password-reset', 'email')).toBe(true);
    expect(wants({}, 'device-offline', 'email')).toBe(true);
  });

  it('emails an address not confirmed yet only its confirmation, a password reset and an invitation', () => {
    const unconfirmed = NOTIFICATION_EVENTS.filter((event) => emailsTo(event, { confirmed: false }));
    expect(unconfirmed.sort()).toEqual(['email-verification', 'invitation', 'password-reset']);
    expect(NOTIFICATION_EVENTS.every((event) => emailsTo(event, { confirmed: true }))).toBe(true);
  });
});
