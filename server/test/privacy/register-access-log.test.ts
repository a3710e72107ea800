/**
 * The processing register (every purpose with its legal basis, texts in both languages),
 * managers' role-based access (individual 15-minute data for settlement and open disputes
 * only), the minimum count of an aggregate, and the access log as the member reads it.
 */
import { describe, expect, it } from 'vitest';
import {
  accessLogRecord, aggregateOrWithhold, createAccessLogEntry, DEFAULT_MINIMUM_AGGREGATE, formatAccessLogEntry, managerView,
  PRIVACY_CATALOGS, PRIVACY_LANGUAGES, PROCESSING_PURPOSES, PROCESSING_REGISTER, privacyText, processingActivity, validateMinimumAggregate,
  type AccessLogEntry, type PrivacyMessageKey,
} from '../../src/privacy/domain/index.js';
import { ANNA, ANNA_HOME, BERT, T0 } from './support.js';

describe('processing register', () => {
  it('lists every purpose once, with a legal basis, data, a retention and texts in every language', () => {
    expect(PROCESSING_REGISTER.map((a) => a.purpose)).toEqual([...PROCESSING_PURPOSES]);
    for (const activity of PROCESSING_REGISTER) {
      expect(activity.legalBases.length, activity.purpose).toBeGreaterThan(0);
      expect(activity.categories.length, activity.purpose).toBeGreaterThan(0);
      expect(activity.retention.length, activity.purpose).toBeGreaterThan(0);
      for (const language of PRIVACY_LANGUAGES) {
        expect(privacyText(language, activity.titleKey)).not.toBe('');
        expect(privacyText(language, activity.descriptionKey).length).toBeGreaterThan(20);
      }
    }
    // What rests on consent is exactly the sharing members chose.
    expect(PROCESSING_REGISTER.filter((a) => a.legalBases.includes('a')).map((a) => a.purpose)).toEqual(['consented-sharing']);
    expect(() => processingActivity('advertising' as 'billing')).toThrow(/unknown processing purpose/);
  });

  it('catalogs: German has every English message with the same placeholders', () => {
    // Argument names only (`{count, plural, …}`, `{name}`), not the words inside plural or select branches.
    const placeholders = (text: string) => [...text.matchAll(/\{\s*(\w+)\s*[,}]/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(PRIVACY_CATALOGS.en) as PrivacyMessageKey[]) {
      expect(placeholders(PRIVACY_CATALOGS.de[key]), key).toEqual(placeholders(PRIVACY_CATALOGS.en[key]));
    }
  });
});

describe('manager access', () => {
  const base = { memberId: ANNA, openDisputes: new Set<string>(), minimumMembers: DEFAULT_MINIMUM_AGGREGATE };

  it('gives individual 15-minute data for settlement, for disputes only of the member in dispute, aggregates otherwise', () => {
    expect(managerView({ ...base, purpose: 'settlement' })).toEqual({ view: 'individual', purpose: 'settlement', resolution: '15m' });
    expect(managerView({ ...base, purpose: 'disputes' })).toEqual({ view: 'aggregate', purpose: 'disputes', minimumMembers: 5 });
    expect(managerView({ ...base, purpose: 'disputes', openDisputes: new Set([ANNA]) }).view).toBe('individual');
    expect(managerView({ ...base, purpose: 'disputes', openDisputes: new Set([BERT]) }).view).toBe('aggregate');
    for (const purpose of ['sharing', 'forecasting', 'metering', 'billing', 'market', 'consented-sharing'] as const) {
      expect(managerView({ ...base, purpose }).view, purpose).toBe('aggregate');
    }
  });

  it('shows an aggregate of at least k distinct members, and withholds a smaller one', () => {
    const rows = (members: number, perMember = 4) => Array.from({ length: members * perMember }, (_, i) => ({ memberId: `m${i % members}`, wh: 100 }));
    expect(aggregateOrWithhold(rows(5), 5)).toEqual({ shown: true, members: 5, totalWh: 2000 });
    // Twenty rows of four members are still four members.
    expect(aggregateOrWithhold(rows(4, 5), 5)).toEqual({ shown: false, members: 4, minimumMembers: 5 });
    expect(aggregateOrWithhold([], 5)).toEqual({ shown: false, members: 0, minimumMembers: 5 });
    expect(aggregateOrWithhold(rows(3), 3).shown).toBe(true);
    expect(() => aggregateOrWithhold([{ memberId: 'm', wh: Number.NaN }], 5)).toThrow(/whole Wh/);
  });

  it('refuses a k that protects nothing', () => {
    for (const k of [0, 1, 2, 2.5, Number.NaN, -5, 1e9]) expect(() => validateMinimumAggregate(k), String(k)).toThrow(/minimum number of members/);
    expect(validateMinimumAggregate(3)).toBe(3);
  });
});

describe('access log', () => {
  const managerRead: AccessLogEntry = {
    at: Date.UTC(2026, 3, 2, 8, 30),
    communityId: 'community-1',
    subject: ANNA,
    accessor: { kind: 'manager', userId: 'user-mia', name: 'Mia Manager' },
    // March on Vienna's clock: 2026-02-28T23:00Z to 2026-03-31T22:00Z.
    data: { category: 'intervals', meteringPoints: [ANNA_HOME], period: { fromMs: Date.UTC(2026, 1, 28, 23), toMs: Date.UTC(2026, 2, 31, 22) }, resolution: '15m' },
    purpose: 'settlement',
  };

  it('tells the member who read what, when and why, on the community\'s clock', () => {
    const en = formatAccessLogEntry(createAccessLogEntry(managerRead), { language: 'en', locale: 'en-GB', timeZone: 'Europe/Vienna' });
    expect(en.when).toBe('2 Apr 2026, 10:30');
    expect(en.who).toBe('Mia Manager (manager)');
    // The end is exclusive: March, not "1 March – 1 April".
    // (ICU puts thin spaces around the dash in some versions.)
    expect(en.what).toMatch(/^15-minute energy data \(15-minute values\) of 1 metering point, 1\s?–\s?31 Mar 2026$/);
    expect(en.why).toBe('Settlement with the grid operator');
    expect(en.line).toBe(`2 Apr 2026, 10:30: Mia Manager (manager) read your ${en.what} for “Settlement with the grid operator”.`);
    const de = formatAccessLogEntry(managerRead, { language: 'de', locale: 'de-AT', timeZone: 'Europe/Vienna' });
    expect(de.line).toContain('Mia Manager (Verwaltung) hat diese Daten gelesen: Viertelstundenwerte (Viertelstundenwerte) von 1 Zählpunkt');
    expect(de.line).toContain('Abrechnung mit dem Netzbetreiber');
  });

  it('names a consent recipient and an export in the member\'s words', () => {
    const viaConsent: AccessLogEntry = {
      ...managerRead,
      accessor: { kind: 'recipient', recipient: { kind: 'researcher', id: 'tu-wien', label: 'Energy Lab, TU Wien' }, grantId: 'grant-7' },
      data: { category: 'intervals', meteringPoints: [ANNA_HOME, 'AT2'], period: null, resolution: '1d' },
      purpose: 'consented-sharing',
    };
    const line = formatAccessLogEntry(createAccessLogEntry(viaConsent), { language: 'en', timeZone: 'UTC' }).line;
    expect(line).toContain('Energy Lab, TU Wien, through your consent read your 15-minute energy data (daily values) of 2 metering points for');
    const exported: AccessLogEntry = { ...managerRead, accessor: { kind: 'export', jobId: 'job-1', requestedBy: 'admin' }, data: { ...managerRead.data, resolution: null }, purpose: 'data-subject-rights' };
    expect(formatAccessLogEntry(createAccessLogEntry(exported), { language: 'en', timeZone: 'UTC' }).who).toBe('a data export made for you by an administrator');
    expect(accessLogRecord(viaConsent)).toMatchObject({ accessor_kind: 'recipient', accessor: 'Energy Lab, TU Wien', grant_id: 'grant-7', metering_points: `${ANNA_HOME} AT2`, period_from: null });
  });

  it('refuses entries that would misstate a read', () => {
    const recipient = { kind: 'recipient', recipient: { kind: 'app', id: 'app-1', label: 'App' }, grantId: 'g1' } as const;
    expect(() => createAccessLogEntry({ ...managerRead, accessor: recipient })).toThrow(/consented-sharing only/);
    expect(() => createAccessLogEntry({ ...managerRead, accessor: { kind: 'export', jobId: 'j1', requestedBy: 'member' } })).toThrow(/data-subject-rights only/);
    expect(() => createAccessLogEntry({ ...managerRead, at: Number.NaN })).toThrow(expect.objectContaining({ field: 'at' }));
    expect(() => createAccessLogEntry({ ...managerRead, data: { ...managerRead.data, period: { fromMs: T0, toMs: T0 } } })).toThrow(/ends after/);
    expect(() => createAccessLogEntry({ ...managerRead, data: { ...managerRead.data, category: 'dna' as 'intervals' } })).toThrow(/category/);
    expect(() => createAccessLogEntry({ ...managerRead, accessor: { kind: 'manager', userId: 'u1', name: ' ' } })).toThrow(/name/);
  });
});
