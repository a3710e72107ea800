/**
 * Billing records and erasure (issue 20) on the running platform: a member
 * with invoices and a SEPA mandate erases the account — the billing details carry the pseudonym,
 * the mandate is kept restricted (no collection, not shown, not replaceable) and only there, the
 * issued invoices keep the buyer as issued and nothing else of the person is left anywhere; the
 * retention job (a fake clock) deletes the mandate when its 13 months end, and the closed month
 * with its statements, invoices and payment history when the community's configurable billing
 * retention ends — which the database lets through, and nothing else.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { confirmedCloseUrl } from '../support/settlements.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { createLocalClock, dayRange, localDateOf, monthRange } from '../../src/kernel/calendar.js';
import { Q, storeIntervals } from '../sharing/support/stored.js';
import { enforceRetention, findTraces, type PrivacyContext } from '../../src/privacy/index.js';
import { mandateEvidenceEnds } from '../../src/billing/domain/mandate-evidence.js';

const VIENNA = 'Europe/Vienna';
const profile = {
  legalName: 'Sonnenhof Energiegemeinschaft eGen',
  address: { street: 'Hauptplatz 1', postalCode: '8010', city: 'Graz', country: 'AT' },
  vat: { country: 'AT', regime: 'registered', vatId: 'ATU12345678' },
  bank: { iban: 'AT61 1904 3002 3457 3201', bic: 'BKAUATWW' },
  creditorId: 'DE98ZZZ09999999999',
  invoicePrefix: 'REC-',
  paymentTermDays: 14,
};
const detailsA = { fullName: 'Anna Berger', address: { street: 'Feldweg 3', postalCode: '8020', city: 'Graz', country: 'AT' }, vat: { regime: 'private' } };
const detailsA2 = {
  fullName: 'Quirin Ohnespur', address: { street: 'Spurlosgasse 17', postalCode: '8020', city: 'Graz', country: 'AT' }, vat: { regime: 'private' },
  payoutAccount: { iban: 'AT483200000012345864' },
};
const mandateA2 = { mandateId: 'REC-M-0002', signedOn: '2025-01-15', iban: 'DE89 3704 0044 0532 0130 00', accountHolder: 'Quirin Ohnespur' };
const MANDATE_IBAN = 'DE89370400440532013000';

/** The month before the running one (ended whenever the test runs). */
function lastMonth(): string {
  const now = new Date();
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 15));
  return d.toISOString().slice(0, 7);
}

describe.each(platformStoreKinds)('billing records through erasure and retention, on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  const clock = { now: Date.now() };
  const period = lastMonth();
  let settlementId = '';
  let pseudonym = '';
  let ctx: PrivacyContext;

  async function ok(method: string, url: string, token: string, body?: unknown) {
    const response = await tp.call(method, url, { token, body });
    if (response.status >= 300) throw new Error(`${method} ${url}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  beforeAll(async () => {
    tp = await startTestPlatform(kind, { privacy: { now: () => clock.now } });
    w = await buildWorld(tp);
    ctx = { db: tp.platform.db, now: () => clock.now, events: tp.platform.events, deviceChanged: () => undefined, box: tp.platform.secrets.box, exportsDir: join(tp.artefactsDir, 'privacy-exports') };
    await tp.call('DELETE', `/api/v1/tariffs/${w.tariffA}`, { token: w.managerA.token });
    await ok('POST', `/api/v1/communities/${w.communityA}/tariffs`, w.managerA.token,
      { name: 'Founding', gridPrice: '0.30', communityPrice: '0.15', feedInPrice: '0.07', gridFeeReduction: '0.02', validFrom: '2000-01-01' });
    // A day of the month: A exports 400 Wh, A2 imports 250 Wh a quarter hour (A2 owes, and pays by direct debit).
    const { startMs } = monthRange(period, VIENNA)!;
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA, Object.fromEntries(Array.from({ length: 96 }, (_, t) => [startMs + t * Q, { importWh: 0, exportWh: 400 }])));
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA2, Object.fromEntries(Array.from({ length: 96 }, (_, t) => [startMs + t * Q, { importWh: 250, exportWh: 0 }])));
    await tp.platform.sharing.flush();
    await ok('PUT', `/api/v1/communities/${w.communityA}/billing-profile`, w.managerA.token, profile);
    await ok('PUT', `/api/v1/members/${w.memberIdA}/billing-details`, w.memberA.token, detailsA);
    await ok('PUT', `/api/v1/members/${w.memberIdA2}/billing-details`, w.memberA2.token, detailsA2);
    await ok('PUT', `/api/v1/members/${w.memberIdA2}/sepa-mandate`, w.managerA.token, mandateA2);
    await ok('PUT', `/api/v1/members/${w.memberIdA}/sepa-mandate`, w.managerA.token, { ...mandateA2, mandateId: 'REC-M-0001', accountHolder: 'Anna Berger' });
    const settlement = await ok('POST', `/api/v1/communities/${w.communityA}/settlements`, w.managerA.token, { period });
    settlementId = settlement.id;
    await ok('POST', await confirmedCloseUrl(tp, w.managerA.token, settlementId), w.managerA.token);
  }, 180_000);
  afterAll(() => tp?.close());

  const payments = async () => (await ok('GET', `/api/v1/settlements/${settlementId}/payments`, w.managerA.token)) as { memberId: string; sepa: string | null }[];

  it('erasure keeps an invoiced member\'s mandate restricted for the refund period and only there; nothing else of them is left but the invoices as issued', async () => {
    expect((await payments()).find((p) => p.memberId === w.memberIdA2)?.sepa).toBe('direct-debit');
    const [invoice] = (await ok('GET', `/api/v1/members/${w.memberIdA2}/invoices`, w.memberA2.token)) as { dueDate: string }[];
    const email = w.memberA2.email;

    await ok('POST', `/api/v1/members/${w.memberIdA2}/erasure`, w.memberA2.token);
    await tp.platform.privacy.flush();
    const requests = await ok('GET', `/api/v1/communities/${w.communityA}/erasure-requests`, w.managerA.token);
    const done = requests.find((r: { memberId: string }) => r.memberId === w.memberIdA2);
    expect(done).toMatchObject({ state: 'done', error: null });
    pseudonym = done.pseudonym;

    // Kept until the day after 13 months from the last possible collection (the invoice's due date, or the erasure day if later), local midnight.
    const ends = mandateEvidenceEnds(invoice!.dueDate, localDateOf(clock.now, createLocalClock(VIENNA)))!;
    const [kept] = await tp.platform.db.query<{ restricted_until: Date; iban: string }>('SELECT restricted_until, iban FROM sepa_mandates WHERE member_id = $1', [w.memberIdA2]);
    expect(kept).toEqual({ restricted_until: new Date(dayRange(ends, VIENNA)!.startMs), iban: MANDATE_IBAN });
    // Restricted: nobody sees it, no file collects under it, a manager can neither replace nor revoke it.
    const listed = (await ok('GET', `/api/v1/communities/${w.communityA}/billing-details`, w.managerA.token)).find((m: { memberId: string }) => m.memberId === w.memberIdA2);
    expect(listed).toMatchObject({
      displayName: pseudonym, mandate: null,
      details: { fullName: pseudonym, address: { street: '[erased]', postalCode: '[erased]', city: '[erased]', country: 'AT' }, vat: { regime: 'private' } },
    });
    expect(listed.details.payoutAccount).toBeUndefined();
    expect((await payments()).find((p) => p.memberId === w.memberIdA2)?.sepa).toBeNull();
    const replace = await tp.call('PUT', `/api/v1/members/${w.memberIdA2}/sepa-mandate`, { token: w.managerA.token, body: { ...mandateA2, accountHolder: 'Someone Else' } });
    expect(replace.status).toBe(409);
    expect((await tp.call('DELETE', `/api/v1/members/${w.memberIdA2}/sepa-mandate`, { token: w.managerA.token })).status).toBe(404);

    // Every table: the person's name, address, email and accounts only where the law keeps them — the invoices as issued, the restricted mandate.
    const traces = { name: detailsA2.fullName, email, addresses: [detailsA2.address.street, detailsA2.payoutAccount.iban, MANDATE_IBAN], ids: [] };
    const tables = await tp.platform.db.query<{ name: string }>(
      `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS name FROM information_schema.tables
       WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`);
    const found: Record<string, string[]> = {};
    for (const { name } of tables) {
      const hits = findTraces(JSON.stringify(await tp.platform.db.query(`SELECT * FROM ${name}`)), traces);
      if (hits.length > 0) found[name] = hits;
    }
    expect(found).toEqual({
      'public.invoices': [detailsA2.fullName, detailsA2.address.street],
      'public.sepa_mandates': [detailsA2.fullName, MANDATE_IBAN],
    });
  });

  it('the retention job deletes the restricted mandate the day its refund period ends, once', async () => {
    const [{ restricted_until: until }] = await tp.platform.db.query<{ restricted_until: Date }>('SELECT restricted_until FROM sepa_mandates WHERE member_id = $1', [w.memberIdA2]) as [{ restricted_until: Date }];
    const mandates = async (at: number) => {
      clock.now = at;
      return (await enforceRetention(ctx, [w.communityA]))[0]!;
    };
    expect((await mandates(until.getTime() - 1)).mandates).toBe(0);
    expect(await tp.platform.db.query('SELECT 1 FROM sepa_mandates WHERE member_id = $1', [w.memberIdA2])).toHaveLength(1);
    const report = await mandates(until.getTime());
    expect(report).toMatchObject({ mandates: 1, settlements: 0, statements: 0, invoices: 0 });
    expect(await tp.platform.db.query('SELECT 1 FROM sepa_mandates WHERE member_id = $1', [w.memberIdA2])).toEqual([]);
    expect((await mandates(until.getTime() + 1)).mandates).toBe(0);
    // Another member's mandate in force is no business of the job.
    expect(await tp.platform.db.query('SELECT member_id FROM sepa_mandates WHERE community_id = $1', [w.communityA])).toEqual([{ member_id: w.memberIdA }]);
  });

  it('the database refuses to remove issued records unless the retention end is declared for that community and they precede it', async () => {
    const [invoice] = await tp.platform.db.query<{ id: string; issued_at: Date }>('SELECT i.id, i.issued_at FROM invoices i JOIN statements s ON s.id = i.statement_id WHERE s.settlement_id = $1', [settlementId]);
    const attempt = (declared: string | null, sql: string) => tp.platform.db.transaction(async (tx) => {
      if (declared !== null) await tx.query(`SELECT set_config('gridshare.billing_records_cutoff', $1, true)`, [declared]);
      await tx.query(sql, [invoice!.id]);
    });
    const later = new Date(invoice!.issued_at.getTime() + 1000).toISOString();
    await expect(attempt(null, 'DELETE FROM invoices WHERE id = $1')).rejects.toThrow(/cannot be removed/);
    await expect(attempt(`${w.communityA}@${invoice!.issued_at.toISOString()}`, 'DELETE FROM invoices WHERE id = $1')).rejects.toThrow(/cannot be removed/);
    await expect(attempt(`${w.communityB}@${later}`, 'DELETE FROM invoices WHERE id = $1')).rejects.toThrow(/cannot be removed/);
    await expect(attempt(`${w.communityA}@${later}`, `UPDATE invoices SET gross = '0.00' WHERE id = $1`)).rejects.toThrow(/never changed/);
    await expect(attempt(`${w.communityB}@${later}`, `DELETE FROM settlements WHERE id = (SELECT s.settlement_id FROM invoices i JOIN statements s ON s.id = i.statement_id WHERE i.id = $1)`))
      .rejects.toThrow(/cannot be removed/);
    expect(await tp.platform.db.query('SELECT 1 FROM invoices WHERE id = $1', [invoice!.id])).toHaveLength(1);
  });

  it('the closed month, its statements, invoices and payment history go when the community\'s billing retention ends — its configured years, not the legal minimum\'s', async () => {
    const [invoice] = (await ok('GET', `/api/v1/settlements/${settlementId}/invoices`, w.managerA.token)) as { id: string }[];
    await ok('PUT', `/api/v1/invoices/${invoice!.id}/payment`, w.managerA.token, { status: 'paid' });
    const register = await ok('GET', `/api/v1/communities/${w.communityA}/processing-register`, w.memberA.token);
    // The test community has no country preset: the longest legal minimum, 10 years after the end of the year; it keeps them 11.
    const minimum = register.retention.legal.billingRecordsYears;
    expect(minimum).toBe(10);
    await ok('PUT', `/api/v1/communities/${w.communityA}/retention`, w.managerA.token, { ...register.retention.policy, billingRecordsYears: minimum + 1 });
    const [{ issued }] = await tp.platform.db.query<{ issued: Date }>(
      'SELECT max(i.issued_at) AS issued FROM invoices i JOIN statements s ON s.id = i.statement_id WHERE s.settlement_id = $1', [settlementId]) as [{ issued: Date }];
    const year = Number(localDateOf(issued.getTime(), createLocalClock(VIENNA)).slice(0, 4));
    const newYear = (y: number) => dayRange(`${y}-01-01`, VIENNA)!.startMs;
    const run = async (at: number) => {
      clock.now = at;
      return (await enforceRetention(ctx, [w.communityA]))[0]!;
    };
    const records = async () => ({
      settlements: (await tp.platform.db.query('SELECT 1 FROM settlements WHERE id = $1', [settlementId])).length,
      statements: (await tp.platform.db.query('SELECT 1 FROM statements WHERE settlement_id = $1', [settlementId])).length,
      invoices: (await tp.platform.db.query('SELECT 1 FROM invoices i JOIN statements s ON s.id = i.statement_id WHERE s.settlement_id = $1', [settlementId])).length,
      payments: (await tp.platform.db.query('SELECT 1 FROM invoice_payments WHERE invoice_id = $1', [invoice!.id])).length,
    });
    const before = await records();
    expect(before).toEqual({ settlements: 1, statements: 2, invoices: 2, payments: 1 });
    // The legal minimum's end and the last instant of the configured period: kept.
    expect(await run(newYear(year + minimum + 1))).toMatchObject({ settlements: 0, statements: 0, invoices: 0 });
    expect(await run(newYear(year + minimum + 2) - 1)).toMatchObject({ settlements: 0, statements: 0, invoices: 0 });
    expect(await records()).toEqual(before);
    // 1 January after the configured years, local time: gone, all of it; the pseudonymised statement with it.
    expect(await run(newYear(year + minimum + 2))).toMatchObject({ settlements: 1, statements: 2, invoices: 2 });
    expect(await records()).toEqual({ settlements: 0, statements: 0, invoices: 0, payments: 0 });
    expect(await tp.platform.db.query('SELECT 1 FROM statements WHERE display_name = $1', [pseudonym])).toEqual([]);
    expect(await run(newYear(year + minimum + 2))).toMatchObject({ settlements: 0, statements: 0, invoices: 0, mandates: 0 });
  });
});
