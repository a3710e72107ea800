import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { monthRange } from '../../src/kernel/calendar.js';
import { Q, storeIntervals } from '../sharing/support/stored.js';
import { pdfText } from '../support/pdf.js';
import { billingFormat } from '../../src/billing/domain/catalog.js';

function lastOctober(): string {
  const now = new Date();
  return `${now.getUTCMonth() >= 10 ? now.getUTCFullYear() : now.getUTCFullYear() - 1}-10`;
}

function hasPdftotext(): boolean {
  try {
    execFileSync('pdftotext', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.each(platformStoreKinds)('settlement and statement routes on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  const period = lastOctober();
  const range = monthRange(period, 'Europe/Vienna')!;

  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
    // One tariff for any year the test runs in.
    await tp.call('DELETE', `/api/v1/tariffs/${w.tariffA}`, { token: w.managerA.token });
    await tp.call('POST', `/api/v1/communities/${w.communityA}/tariffs`, {
      token: w.managerA.token, body: { name: 'Founding', gridPrice: '0.30', communityPrice: '0.15', feedInPrice: '0.07', gridFeeReduction: '0.02', validFrom: '2000-01-01' },
    });
    await tp.call('PATCH', `/api/v1/members/${w.memberIdA2}`, { token: w.memberA2.token, body: { displayName: 'Jürgen Müller' } });
    // A day of quarter hours at the start of the month: A exports 400 Wh, A2 imports 250 Wh.
    const day = (wh: (t: number) => { importWh: number; exportWh: number }) => Object.fromEntries(Array.from({ length: 96 }, (_, t) => [range.startMs + t * Q, wh(t)]));
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA, day(() => ({ importWh: 0, exportWh: 400 })));
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA2, day(() => ({ importWh: 250, exportWh: 0 })));
    await tp.platform.sharing.flush();
  });
  afterAll(() => tp?.close());

  it('settles, lists, shows, closes and recomputes a month through the API', async () => {
    const created = await tp.call('POST', `/api/v1/communities/${w.communityA}/settlements`, { token: w.managerA.token, body: { period } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ period, state: 'draft', closedAt: null });
    const statement = created.body.statements.find((s: { memberId: string }) => s.memberId === w.memberIdA2);
    // 96 × 250 Wh = 24 kWh from the community: 24 × 0.15 = 3.60, reduction −0.48.
    expect(statement).toMatchObject({ displayName: 'Jürgen Müller', kind: 'statement', total: '3.12', currency: 'EUR' });
    // A statement for each member with a site; none for the manager, who runs the community without one.
    const memberIds = created.body.statements.map((s: { memberId: string }) => s.memberId);
    expect(memberIds).toEqual(expect.arrayContaining([w.memberIdA, w.memberIdA2]));
    const managers = (await tp.call('GET', `/api/v1/communities/${w.communityA}/members`, { token: w.managerA.token })).body
      .filter((m: { role: string }) => m.role === 'manager').map((m: { id: string }) => m.id);
    expect(memberIds).not.toContain(managers[0]);

    const again = await tp.call('POST', `/api/v1/communities/${w.communityA}/settlements`, { token: w.managerA.token, body: { period } });
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(created.body.id);
    expect(again.body.statements).toHaveLength(created.body.statements.length);
    // A draft's statements are replaced by the new run.
    const current = again.body.statements.find((s: { memberId: string }) => s.memberId === w.memberIdA2);
    expect(current.id).not.toBe(statement.id);
    statement.id = current.id;

    const list = await tp.call('GET', `/api/v1/communities/${w.communityA}/settlements`, { token: w.managerA.token });
    expect(list.body.map((s: { id: string }) => s.id)).toEqual([created.body.id]);

    const mine = await tp.call('GET', `/api/v1/members/${w.memberIdA2}/statements`, { token: w.memberA2.token });
    expect(mine.body).toEqual([expect.objectContaining({ id: statement.id, period, state: 'draft', kind: 'statement', total: '3.12' })]);
    const json = await tp.call('GET', `/api/v1/statements/${statement.id}`, { token: w.memberA2.token });
    expect(json.body).toMatchObject({ displayName: 'Jürgen Müller', total: '3.12', energy: { fromCommunityWh: 24_000, consumptionWh: 24_000 } });
    expect(json.body.quarterHours).toMatchObject({ expected: 2980, withData: 96, missing: 2884 });

    // One day of the month has data: closing names what is missing and needs that count confirmed.
    const gaps = await tp.call('GET', `/api/v1/settlements/${created.body.id}/gaps`, { token: w.managerA.token });
    expect(gaps.status).toBe(200);
    expect(gaps.body).toMatchObject({ noData: false, countedUntil: new Date(range.endMs).toISOString() });
    expect(gaps.body.points).toEqual(expect.arrayContaining([expect.objectContaining({ meteringPointId: w.meteringPointA2, memberName: 'Jürgen Müller', missingQuarterHours: 2884 })]));
    const missing: number = gaps.body.missingQuarterHours;
    const unconfirmed = await tp.call('POST', `/api/v1/settlements/${created.body.id}/close`, { token: w.managerA.token });
    expect(unconfirmed.status).toBe(409);
    expect(unconfirmed.body.message).toContain(`misses ${missing} quarter hours`);
    for (const bad of ['-1', 'NaN', '2.5', '99999999999', 'x']) {
      expect((await tp.call('POST', `/api/v1/settlements/${created.body.id}/close?confirmMissing=${bad}`, { token: w.managerA.token })).status, bad).toBe(400);
    }
    expect((await tp.call('POST', `/api/v1/settlements/${created.body.id}/close?confirmMissing=${missing - 1}`, { token: w.managerA.token })).status).toBe(409);
    expect((await tp.call('GET', `/api/v1/settlements/${created.body.id}`, { token: w.managerA.token })).body.state).toBe('draft');
    const closed = await tp.call('POST', `/api/v1/settlements/${created.body.id}/close?confirmMissing=${missing}`, { token: w.managerA.token });
    expect(closed.status).toBe(200);
    expect(closed.body.state).toBe('closed');
    expect((await tp.call('POST', `/api/v1/settlements/${created.body.id}/close`, { token: w.managerA.token })).status).toBe(409);
    expect((await tp.call('POST', `/api/v1/communities/${w.communityA}/settlements`, { token: w.managerA.token, body: { period } })).status).toBe(409);

    // Late data after closing: A2 used 100 Wh more in the first quarter hour → a correction of 1.5 − 0.2 cents → 0.02 − 0.00.
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA2, { [range.startMs]: { importWh: 350, exportWh: 0 } });
    await tp.platform.sharing.flush();
    const recomputed = await tp.call('POST', `/api/v1/settlements/${created.body.id}/recompute`, { token: w.managerA.token });
    expect(recomputed.status).toBe(200);
    const correction = recomputed.body.statements.find((s: { memberId: string; kind: string }) => s.memberId === w.memberIdA2 && s.kind === 'correction');
    const corrected = await tp.call('GET', `/api/v1/statements/${correction.id}`, { token: w.memberA2.token });
    expect(corrected.body.lines.map((l: { code: string; energyWh: number; amount: string }) => [l.code, l.energyWh, l.amount])).toEqual([
      ['community-energy', 100, '0.02'], ['grid-fee-reduction', 100, '0.00'],
    ]);
    expect(corrected.body.total).toBe('0.02');
    expect((await tp.call('GET', `/api/v1/statements/${statement.id}`, { token: w.memberA2.token })).body.total).toBe('3.12');
  });

  it('downloads a statement as CSV and as a valid PDF with the member\'s name and the € sign', async () => {
    const [settlement] = (await tp.call('GET', `/api/v1/communities/${w.communityA}/settlements`, { token: w.managerA.token })).body;
    const statement = settlement.statements.find((s: { memberId: string; kind: string }) => s.memberId === w.memberIdA2 && s.kind === 'statement');
    const csv = await tp.call('GET', `/api/v1/statements/${statement.id}/statement.csv`, { token: w.memberA2.token });
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.headers['content-disposition']).toMatch(/^attachment; filename="statement-\d{4}-10-[0-9a-f]{8}\.csv"$/);
    const rows = String(csv.body).trim().split('\r\n');
    expect(rows[0]).toBe('period,member,kind,code,description,energy_wh,unit_price,amount,exact_amount,currency');
    expect(rows[1]).toBe(`${period},Jürgen Müller,statement,community-energy,Energy from the community (Founding),24000,0.15,3.60,3.6,EUR`);
    expect(rows).toContain(`${period},Jürgen Müller,statement,total,Total (sum of the lines),,,3.12,,EUR`);

    const pdf = await tp.call('GET', `/api/v1/statements/${statement.id}/statement.pdf`, { token: w.memberA2.token });
    expect(pdf.status).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.headers['content-disposition']).toMatch(/^attachment; filename=".*\.pdf"$/);
    const bytes = pdf.raw.rawPayload;
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    expect(bytes.subarray(-6).toString()).toContain('%%EOF');
    const written = pdfText(bytes);
    expect(written).toContain('Jürgen Müller');
    expect(written).toContain('Total: €3.12');
    if (hasPdftotext()) {
      const dir = mkdtempSync(join(tmpdir(), 'gridshare-pdf-'));
      try {
        writeFileSync(join(dir, 's.pdf'), bytes);
        const extracted = execFileSync('pdftotext', ['-enc', 'UTF-8', join(dir, 's.pdf'), '-'], { encoding: 'utf8' });
        expect(extracted).toContain('Jürgen Müller');
        expect(extracted).toContain('€3.12');
        expect(extracted).toContain('Energy statement');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }

    // Dates in the reader's locale, not the community's (en): the one asked for, else the browser's; a malformed one refused.
    const full = (await tp.call('GET', `/api/v1/statements/${statement.id}`, { token: w.memberA2.token })).body as { periodStart: string };
    const firstDay = (locale: string) => new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'Europe/Vienna' }).format(new Date(full.periodStart));
    expect(written).toContain(`Period: ${firstDay('en')}`);
    const url = `/api/v1/statements/${statement.id}/statement.pdf`;
    expect(pdfText((await tp.call('GET', `${url}?locale=en-GB`, { token: w.memberA2.token })).raw.rawPayload)).toContain(`Period: ${firstDay('en-GB')}`);
    expect(pdfText((await tp.call('GET', url, { token: w.memberA2.token, headers: { 'accept-language': 'de-AT,de;q=0.9' } })).raw.rawPayload))
      .toContain(`Zeitraum: ${firstDay('de-AT')}`);
    expect((await tp.call('GET', `${url}?locale=english`, { token: w.memberA2.token })).status).toBe(400);
    // The reader's own language (account page) wins over their browser's; a locale asked for still wins over both.
    expect((await tp.call('PATCH', '/api/v1/me', { token: w.memberA2.token, body: { locale: 'de' } })).status).toBe(200);
    try {
      expect(pdfText((await tp.call('GET', url, { token: w.memberA2.token, headers: { 'accept-language': 'en-GB,en;q=0.9' } })).raw.rawPayload))
        .toContain(`Zeitraum: ${firstDay('de')}`);
      expect(pdfText((await tp.call('GET', `${url}?locale=en-GB`, { token: w.memberA2.token })).raw.rawPayload)).toContain(`Period: ${firstDay('en-GB')}`);
    } finally {
      await tp.call('PATCH', '/api/v1/me', { token: w.memberA2.token, body: { locale: null } });
    }
  });

  it('writes every word of the statement PDF and the CSV\'s headers and texts in the reader\'s language', async () => {
    const [settlement] = (await tp.call('GET', `/api/v1/communities/${w.communityA}/settlements`, { token: w.managerA.token })).body;
    const statement = settlement.statements.find((s: { memberId: string; kind: string }) => s.memberId === w.memberIdA2 && s.kind === 'statement');
    const pdf = async (query: string, headers: Record<string, string> = {}) =>
      pdfText((await tp.call('GET', `/api/v1/statements/${statement.id}/statement.pdf${query}`, { token: w.memberA2.token, headers })).raw.rawPayload);
    const english = await pdf('?locale=en');
    const englishWords = ['Energy statement', 'Member: Jürgen Müller', 'Period: ', 'State: closed (final)', 'Line', 'Energy', 'Price/kWh', 'Amount',
      'Energy from the community (Founding)', 'Grid-fee reduction on community energy (Founding)', 'Total: €3.12', 'Each line is rounded once',
      'Energy by source', 'Consumption: ', 'From the community: ', 'Saved against buying everything from the grid: €', 'CO2 avoided (kg): ', 'Data: '];
    for (const word of englishWords) expect(english, word).toContain(word);
    expect(english).toMatch(/Consumption: \d{1,3}(,\d{3})*\.\d{3} kWh/);
    // Austrian German asked for, or German by the browser: German words, German numbers ("€ 3,12" in Austria, "3,12 €" in Germany, "24,000 kWh"), no English sentence left.
    for (const [locale, german] of [['de-AT', await pdf('?locale=de-AT')], ['de-DE', await pdf('', { 'accept-language': 'de-DE,de;q=0.9,en;q=0.5' })]] as const) {
      expect(german).toContain(`Summe: ${billingFormat(locale).money('3.12', 'EUR')}`);
      for (const word of ['Energieabrechnung', 'Mitglied: Jürgen Müller', 'Zeitraum: ', 'Status: abgeschlossen (endgültig)', 'Position', 'Preis/kWh', 'Betrag',
        'Energie aus der Gemeinschaft (Founding)', 'Netzentgeltreduktion auf Gemeinschaftsenergie (Founding)',
        'Jede Position wird einmal', 'Energie nach Herkunft', 'Verbrauch: ', 'Aus der Gemeinschaft: ', 'Ersparnis gegenüber', 'Vermiedenes CO2 (kg): ', 'Daten: ']) {
        expect(german, word).toContain(word);
      }
      expect(german).toMatch(/Verbrauch: \d{1,3}(\.\d{3})*,\d{3} kWh/);
      for (const word of englishWords.filter((w) => !['Energy', 'Line', 'Period: '].includes(w))) expect(german, word).not.toContain(word);
    }

    const csv = async (query: string) => String((await tp.call('GET', `/api/v1/statements/${statement.id}/statement.csv${query}`, { token: w.memberA2.token })).body).trim().split('\r\n');
    const germanCsv = await csv('?locale=de');
    expect(germanCsv[0]).toBe('zeitraum,mitglied,art,code,bezeichnung,energie_wh,preis_je_kwh,betrag,betrag_exakt,waehrung');
    // The figures stay data: dot decimals, exactly as stored.
    expect(germanCsv[1]).toBe(`${period},Jürgen Müller,statement,community-energy,Energie aus der Gemeinschaft (Founding),24000,0.15,3.60,3.6,EUR`);
    expect(germanCsv).toContain(`${period},Jürgen Müller,statement,total,Summe (der Positionen),,,3.12,,EUR`);
    expect(germanCsv.some((row) => row.startsWith(`${period},Jürgen Müller,statement,energy:consumptionWh,Verbrauch,`))).toBe(true);
    expect((await csv('?locale=en'))[0]).toBe('period,member,kind,code,description,energy_wh,unit_price,amount,exact_amount,currency');
    expect((await tp.call('GET', `/api/v1/statements/${statement.id}/statement.csv?locale=deutsch`, { token: w.memberA2.token })).status).toBe(400);
  });

  it('refuses bad input and what is not yours, changing nothing', async () => {
    const url = `/api/v1/communities/${w.communityA}/settlements`;
    for (const body of [{ period: '2026-13' }, { period: '2026-1' }, { period: 202610 }, {}, { period: '2026-10', extra: true }, { period: `${new Date().getUTCFullYear() + 1}-01` }]) {
      const response = await tp.call('POST', url, { token: w.managerA.token, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body).toMatchObject({ error: 'bad_request' });
    }
    expect((await tp.call('POST', url, { token: w.managerA.token, rawBody: '{"period":', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await tp.call('GET', url, { token: w.managerA.token })).body).toHaveLength(1);
    expect((await tp.call('POST', `/api/v1/communities/${w.communityB}/settlements`, { token: w.managerA.token, body: { period: '2026-01' } })).status).toBe(404);
    const unknown = '00000000-0000-4000-8000-000000000000';
    for (const path of [`/api/v1/settlements/${unknown}`, `/api/v1/statements/${unknown}`, `/api/v1/statements/${unknown}/statement.pdf`]) {
      expect((await tp.call('GET', path, { token: w.managerA.token })).status).toBe(404);
    }
    expect((await tp.call('GET', '/api/v1/statements/not-a-uuid', { token: w.managerA.token })).status).toBe(400);
    const [settlement] = (await tp.call('GET', url, { token: w.managerA.token })).body;
    const statementOfA2 = settlement.statements.find((s: { memberId: string }) => s.memberId === w.memberIdA2);
    expect((await tp.call('GET', `/api/v1/statements/${statementOfA2.id}`, { token: w.memberA.token })).status).toBe(404);
    expect((await tp.call('GET', `/api/v1/statements/${statementOfA2.id}/statement.csv`, { token: w.managerB.token })).status).toBe(404);
    expect((await tp.call('GET', `/api/v1/members/${w.memberIdA2}/statements`, { token: w.memberA.token })).status).toBe(404);
  });
});
