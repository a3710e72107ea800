import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { IntlMessageFormat } from 'intl-messageformat';
import { buildStatement } from '../../src/billing/domain/statement.js';
import { buildInvoice, type ChargeRow, type InvoiceFacts, type InvoiceStatement } from '../../src/billing/domain/invoice.js';
import { auditInvoiceSeries, formatInvoiceNumber, parseInvoiceNumber } from '../../src/billing/domain/invoice-number.js';
import { VAT_COUNTRIES, vatOf, vatPreset, type CommunityVat, type MemberVat } from '../../src/billing/domain/vat.js';
import { BadRequestError } from '../../src/kernel/errors.js';
import en from '../../src/billing/domain/messages/en.json' with { type: 'json' };
import de from '../../src/billing/domain/messages/de.json' with { type: 'json' };

import { type MemberInterval } from '../../src/kernel/energy.js';
const QUARTER = 900_000;
const october = (() => {
  const starts: number[] = [];
  for (let t = Date.parse('2026-10-01T00:00:00+02:00'); t < Date.parse('2026-11-01T00:00:00+01:00'); t += QUARTER) starts.push(t);
  return starts;
})();
const flows = (startMs: number, f: Partial<MemberInterval>): MemberInterval =>
  ({ startMs, selfConsumedWh: 0, fromCommunityWh: 0, fromGridWh: 0, toCommunityWh: 0, toGridWh: 0, ...f });

/** The statement test's hand-computed October: lines 15.44, -4.59, -1.98 (total 8.87). */
const statement = buildStatement({
  memberId: 'm1', periodStartMs: october[0]!, periodEndMs: Date.parse('2026-11-01T00:00:00+01:00'), timeZone: 'Europe/Vienna', currency: 'EUR',
  intervals: october.map((t) => flows(t, { fromCommunityWh: 37, toCommunityWh: 11, selfConsumedWh: 5, fromGridWh: 100, toGridWh: 3 })),
  tariffs: [{ id: 't1', name: 'Standard', validFrom: '2026-01-01', gridPrice: '0.30', communityPrice: '0.14', feedInPrice: '0.07', gridFeeReduction: '0.018', timeOfUse: null }],
  co2: { kind: 'constant', gramsPerKWh: 250 },
});

const address = { street: 'Sonnengasse 1', postalCode: '1010', city: 'Wien', country: 'AT' };
const facts = (community: Partial<CommunityVat> = {}, member: MemberVat = { regime: 'private' }, overrides: Partial<InvoiceFacts> = {}): InvoiceFacts => ({
  number: 'SUN-2026-00042',
  issueDate: '2026-11-03',
  dueDate: '2026-11-17',
  period: { firstDay: '2026-10-01', lastDay: '2026-10-31' },
  member: { name: 'Anna Muster', billingAddress: address, vat: member },
  community: {
    legalName: 'EEG Sonnenstraße', address, registrationNumber: 'ZVR 123456789',
    vat: { country: 'AT', regime: 'registered', vatId: 'ATU12345678', ...community },
    bank: { iban: 'AT61 1904 3002 3457 3201', bic: 'BKAUATWW' },
  },
  tariffNames: { t1: 'Standard' },
  ...overrides,
});

const charges = (rows: readonly { kind: string }[]) => rows.filter((r): r is ChargeRow => r.kind === 'charge');
/** The same month with a flexibility reward credited (flex's settle phase): 6.21 for 600 Wh moved in order-1. */
const rewarded: InvoiceStatement = {
  ...statement,
  lines: [...statement.lines, { code: 'flex-reward', orderReference: 'order-1', orderPeriod: '2026-10-05', energyWh: 600, amount: '-6.21' }],
};

describe('invoices from statements', () => {
  it('orders rows consumption → production → environment, money only on charge rows', () => {
    const invoice = buildInvoice(statement, facts());
    expect(invoice.rows.map((r) => `${r.section}:${r.key}`)).toEqual([
      'consumption:consumption', 'consumption:own-pv', 'consumption:from-community',
      'consumption:community-energy', 'consumption:grid-fee-reduction', 'consumption:from-grid',
      'production:production', 'production:used-at-home', 'production:to-community', 'production:community-sales', 'production:to-grid',
      'environment:co2-avoided',
    ]);
    for (const row of invoice.rows) {
      if (row.kind === 'quantity') expect(Object.keys(row).sort()).toEqual(['key', 'kind', 'label', 'quantity', 'section', 'unit']);
      else expect(row).toMatchObject({ unit: 'kWh', net: expect.stringMatching(/^-?\d+\.\d\d$/) });
    }
    // 2,980 quarter hours × 142 Wh consumption = 423.160 kWh; CO2 in its own unit.
    expect(invoice.rows[0]).toMatchObject({ quantity: '423.160', unit: 'kWh' });
    expect(invoice.rows.at(-1)).toMatchObject({ unit: 'kg CO₂', quantity: statement.co2AvoidedKg });
    expect(charges(invoice.rows).map((r) => r.position)).toEqual([1, 2, 3]);
  });

  it('Austria, VAT-registered community, private producer: 20 % on supplies, sales outside VAT, exact totals', () => {
    const invoice = buildInvoice(statement, facts());
    expect(charges(invoice.rows).map((r) => [r.key, r.net, r.vat.category, r.vat.rate])).toEqual([
      ['community-energy', '15.44', 'S', '20'], ['grid-fee-reduction', '-1.98', 'S', '20'], ['community-sales', '-4.59', 'O', '0'],
    ]);
    // Taxable at 20 %: 15.44 − 1.98 = 13.46 → VAT 2.692 → 2.69.
    expect(invoice.vatBreakdown).toEqual([
      { category: 'O', rate: '0', taxable: '-4.59', vat: '0.00' },
      { category: 'S', rate: '20', taxable: '13.46', vat: '2.69' },
    ]);
    expect(invoice.totals).toEqual({ net: '8.87', vat: '2.69', gross: '11.56' });
    expect(invoice.notes.map((n) => n.key)).toEqual(['invoice.note.selfBilling', 'invoice.note.outsideScope', 'invoice.note.payable']);
  });

  it('credits a flexibility reward in its own section, taxed as the member\'s supply: private outside VAT, small business exempt, registered at the standard rate', () => {
    const privately = buildInvoice(rewarded, facts());
    expect(privately.rows.map((r) => `${r.section}:${r.key}`).slice(-2)).toEqual(['flexibility:flex-reward', 'environment:co2-avoided']);
    const reward = charges(privately.rows).at(-1)!;
    expect(reward).toEqual({
      kind: 'charge', section: 'flexibility', position: 4, key: 'flex-reward', label: 'invoice.charge.flex-reward', labelValues: { orderReference: 'order-1', period: '2026-10-05' },
      quantity: '0.600', unit: 'kWh', unitPrice: null, net: '-6.21', vat: { category: 'O', rate: '0' },
    });
    // Outside VAT with the member's sales: −4.59 − 6.21; the community's supplies keep their 20 %.
    expect(privately.vatBreakdown).toEqual([
      { category: 'O', rate: '0', taxable: '-10.80', vat: '0.00' },
      { category: 'S', rate: '20', taxable: '13.46', vat: '2.69' },
    ]);
    expect(privately.totals).toEqual({ net: '2.66', vat: '2.69', gross: '5.35' });
    expect(privately.notes.map((n) => n.key)).toEqual(['invoice.note.selfBilling', 'invoice.note.selfBillingFlexibility', 'invoice.note.outsideScope', 'invoice.note.payable']);

    // A registered member: the reward at the community's standard rate, in one breakdown with the rest (15.44 − 1.98 − 4.59 − 6.21 = 2.66 → VAT 0.532).
    const registered = buildInvoice(rewarded, facts({}, { regime: 'registered', vatId: 'ATU87654321' }));
    expect(charges(registered.rows).at(-1)!.vat).toEqual({ category: 'S', rate: '20' });
    expect(registered.vatBreakdown).toEqual([{ category: 'S', rate: '20', taxable: '2.66', vat: '0.53' }]);
    expect(registered.totals).toEqual({ net: '2.66', vat: '0.53', gross: '3.19' });
    // In Germany the standard rate is 19 %, whatever the community's own regime.
    expect(charges(buildInvoice(rewarded, facts({ country: 'DE', regime: 'small-business' }, { regime: 'registered', vatId: 'DE123456789' })).rows).at(-1)!.vat).toEqual({ category: 'S', rate: '19' });
    // A small business is exempt.
    expect(charges(buildInvoice(rewarded, facts({}, { regime: 'small-business' })).rows).at(-1)!.vat).toEqual({ category: 'E', rate: '0' });
  });

  it('rounds VAT once per rate (EN 16931), not per line', () => {
    // Two lines at 19 % of 0.05 each: per line 0.0095 → 0.01 + 0.01 = 0.02; per rate 0.10 × 19 % = 0.019 → 0.02.
    // Three lines of 0.03: per line 3 × 0.0057 → 3 × 0.01 = 0.03; per rate 0.09 × 19 % = 0.0171 → 0.02.
    const three: InvoiceStatement = {
      ...statement,
      lines: [1, 2, 3].map((n) => ({ code: 'community-energy' as const, tariffId: `t${n}`, energyWh: 200, unitPrice: '0.15', amount: '0.03' })),
    };
    const invoice = buildInvoice(three, facts({ country: 'DE', vatId: 'DE123456789' }));
    expect(invoice.totals).toEqual({ net: '0.09', vat: '0.02', gross: '0.11' });
  });

  it('applies the rate per tariff component, reverse charge for a registered producer, the country notes', () => {
    const invoice = buildInvoice(statement, facts({ country: 'IT', vatId: 'IT12345678901', rates: { 'community-energy': '10' } }, { regime: 'registered', vatId: 'IT98765432109', reverseCharge: true }));
    expect(charges(invoice.rows).map((r) => [r.key, r.vat])).toEqual([
      ['community-energy', { category: 'S', rate: '10' }],
      ['grid-fee-reduction', { category: 'S', rate: '22' }],
      ['community-sales', { category: 'AE', rate: '0' }],
    ]);
    // 15.44 × 10 % = 1.544 → 1.54; −1.98 × 22 % = −0.4356 → −0.44; total VAT 1.10.
    expect(invoice.totals).toEqual({ net: '8.87', vat: '1.10', gross: '9.97' });
    expect(invoice.notes).toContainEqual({ key: 'invoice.note.reverseCharge.IT', values: { buyerVatId: 'IT12345678901', sellerVatId: 'IT98765432109' } });
  });

  it('a small-business community charges no VAT and says why; a non-registered one shows no VAT at all', () => {
    const small = buildInvoice(statement, facts({ regime: 'small-business', vatId: undefined, country: 'DE' }, { regime: 'small-business' }));
    expect(small.vatBreakdown).toEqual([{ category: 'E', rate: '0', taxable: '8.87', vat: '0.00' }]);
    expect(small.notes.map((n) => n.key)).toContain('invoice.note.smallBusiness.DE');
    const none = buildInvoice(statement, facts({ regime: 'not-registered', vatId: undefined }));
    expect(none.totals).toEqual({ net: '8.87', vat: '0.00', gross: '8.87' });
    const zero = buildInvoice({ ...statement, lines: [] }, facts());
    expect(zero.totals).toEqual({ net: '0.00', vat: '0.00', gross: '0.00' });
    expect(zero.notes).toEqual([{ key: 'invoice.note.nothingDue' }]);
  });

  it('has a preset with the standard rate and note keys for AT, DE, FR, ES, IT, NL, BE, each in both catalogs', () => {
    expect(VAT_COUNTRIES.map((c) => [c, vatPreset(c).standardRate])).toEqual([
      ['AT', '20'], ['DE', '19'], ['FR', '20'], ['ES', '21'], ['IT', '22'], ['NL', '21'], ['BE', '21'],
    ]);
    expect(() => vatPreset('CH')).toThrow(BadRequestError);
    const keys = VAT_COUNTRIES.flatMap((c) => [vatPreset(c).reverseChargeNote, vatPreset(c).smallBusinessNote]);
    for (const key of keys) {
      expect(en).toHaveProperty([key]);
      expect(de).toHaveProperty([key]);
    }
  });

  it('every key an invoice can carry exists in English and German and formats with intl-messageformat', () => {
    expect(Object.keys(de).sort()).toEqual(Object.keys(en).sort());
    const invoice = buildInvoice(rewarded, facts({}, { regime: 'registered', vatId: 'ATU87654321', reverseCharge: true }, { corrects: 'SUN-2026-00007' }));
    const used = [
      ...invoice.rows.map((r) => ({ key: r.label, values: r.kind === 'charge' ? r.labelValues : {} })),
      ...invoice.notes.map((n) => ({ key: n.key, values: n.values ?? {} })),
    ];
    for (const [language, catalog] of [['en', en], ['de', de]] as const) {
      for (const { key, values } of used) {
        const text = String(new IntlMessageFormat((catalog as Record<string, string>)[key]!, language).format(values));
        expect(text, key).not.toMatch(/[{}]/);
      }
    }
    expect(invoice.kind).toBe('correction');
    expect(String(new IntlMessageFormat(de['invoice.note.reverseCharge.AT'], 'de').format(invoice.notes.find((n) => n.key === 'invoice.note.reverseCharge.AT')!.values)))
      .toBe('Übergang der Steuerschuld auf den Leistungsempfänger (§ 19 Abs. 1c UStG). UID des Leistungsempfängers: ATU12345678.');
  });

  it('refuses incomplete or inconsistent facts with the offending field', () => {
    const field = (f: InvoiceFacts) => {
      try {
        buildInvoice(statement, f);
      } catch (error) {
        return error instanceof BadRequestError ? error.field : 'other error';
      }
      return 'accepted';
    };
    expect(field(facts({}, { regime: 'private' }, { number: '42' }))).toBe('number');
    expect(field(facts({}, { regime: 'private' }, { issueDate: '2026-10-31' }))).toBe('issueDate');
    expect(field(facts({}, { regime: 'private' }, { dueDate: '2026-11-01' }))).toBe('dueDate');
    expect(field(facts({}, { regime: 'private' }, { issueDate: '2026-13-01' }))).toBe('issueDate');
    expect(field(facts({ vatId: ' ' }))).toBe('community/vat/vatId');
    expect(field(facts({}, { regime: 'registered' }))).toBe('member/vat/vatId');
    expect(field(facts({ rates: { 'community-energy': 'NaN' } }))).toBe('community/vat/rates/community-energy');
    expect(field(facts({ rates: { 'community-energy': '120' } }))).toBe('community/vat/rates/community-energy');
    const bank = (iban: string, bic?: string) => facts({}, { regime: 'private' }, { community: { ...facts().community, bank: { iban, ...(bic ? { bic } : {}) } } });
    expect(field(bank('AT61 1904 3002 3457 3202'))).toBe('community/bank/iban');
    expect(field(bank('AT61 1904 3002 3457 3201', 'NOTABIC'))).toBe('community/bank/bic');
    expect(field({ ...facts(), member: { ...facts().member, name: '  ' } })).toBe('member/name');
    expect(field({ ...facts(), member: { ...facts().member, billingAddress: { ...address, country: 'Austria' } } })).toBe('member/address/country');
    expect(field(facts())).toBe('accepted');
  });

  it('totals add up exactly for any lines and rates (property)', () => {
    const line = fc.record({
      code: fc.constantFrom('community-energy' as const, 'grid-fee-reduction' as const, 'community-sales' as const),
      cents: fc.integer({ min: -5_000_000, max: 5_000_000 }),
    });
    fc.assert(fc.property(fc.array(line, { maxLength: 12 }), fc.integer({ min: 0, max: 2500 }), fc.boolean(), (lines, rate, producerRegistered) => {
      const s: InvoiceStatement = {
        ...statement,
        lines: lines.map((l, i) => ({ code: l.code, tariffId: `t${i}`, energyWh: 1000, unitPrice: '0.1', amount: (l.cents / 100).toFixed(2) })),
      };
      const rateText = (rate / 100).toString();
      const invoice = buildInvoice(s, facts({ rates: { 'community-energy': rateText, 'community-sales': rateText } }, producerRegistered ? { regime: 'registered', vatId: 'ATU1' } : { regime: 'private' }));
      const cents = (text: string) => BigInt(text.replace('.', ''));
      const net = lines.reduce((sum, l) => sum + BigInt(l.cents), 0n);
      const vat = invoice.vatBreakdown.reduce((sum, b) => sum + cents(b.vat), 0n);
      expect(cents(invoice.totals.net)).toBe(net);
      expect(cents(invoice.totals.vat)).toBe(vat);
      expect(cents(invoice.totals.gross)).toBe(net + vat);
      expect(invoice.vatBreakdown.reduce((sum, b) => sum + cents(b.taxable), 0n)).toBe(net);
    }), { numRuns: 300 });
  });

  it('computes VAT exactly with half-away-from-zero rounding', () => {
    expect(vatOf(1346n, 2000n)).toBe(269n); // 2.692
    expect(vatOf(250n, 2000n)).toBe(50n);
    expect(vatOf(25n, 1000n)).toBe(3n); // 0.025 → 0.03
    expect(vatOf(-25n, 1000n)).toBe(-3n);
    expect(vatOf(1000n, 550n)).toBe(55n); // 5.5 %
  });
});

describe('invoice numbers', () => {
  it('formats and parses one series per community and year', () => {
    expect(formatInvoiceNumber({ prefix: 'SUN-', year: 2026, sequence: 42 })).toBe('SUN-2026-00042');
    expect(formatInvoiceNumber({ prefix: '', year: 2026, sequence: 123456 })).toBe('2026-123456');
    expect(parseInvoiceNumber('SUN-2026-00042')).toEqual({ prefix: 'SUN-', year: 2026, sequence: 42 });
    for (const bad of ['SUN-2026-0042', 'SUN-2026-00000', 'sun-2026-00001', '2026-000001', 'SUN-26-00001', '', 'SUN-2026-00001 ']) {
      expect(parseInvoiceNumber(bad), bad).toBeUndefined();
    }
    expect(() => formatInvoiceNumber({ prefix: 'A B', year: 2026, sequence: 1 })).toThrow(BadRequestError);
    expect(() => formatInvoiceNumber({ prefix: 'A', year: 2026, sequence: 0 })).toThrow(BadRequestError);
    expect(() => formatInvoiceNumber({ prefix: 'A', year: 2026, sequence: Number.NaN })).toThrow(BadRequestError);
  });

  it('audits a series for gaps and reuse', () => {
    const n = (year: number, sequence: number) => formatInvoiceNumber({ prefix: 'SUN-', year, sequence });
    expect(auditInvoiceSeries([n(2026, 2), n(2026, 1), n(2027, 1)])).toEqual([]);
    expect(auditInvoiceSeries([n(2026, 1), n(2026, 3), n(2026, 3), n(2026, 7), 'junk'])).toEqual([
      '"junk" is not an invoice number', 'SUN-2026: number 2 is missing', 'SUN-2026: number 3 issued twice', 'SUN-2026: numbers 4–6 are missing',
    ]);
  });
});
