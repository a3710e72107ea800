import { afterAll, describe, expect, it } from 'vitest';
import { defaultSepaSchemaDirectory, loadSepaSchemas, type SepaSchemas, type SepaSchemaVersion } from '../../../src/billing/sepa/schemas.js';
import { planPayments } from '../../../src/billing/sepa/payments.js';
import { creditTransferXml, directDebitXml, CREDIT_TRANSFER_VERSIONS, DIRECT_DEBIT_VERSIONS } from '../../../src/billing/sepa/pain.js';
import { matchPayments, readBankStatement } from '../../../src/billing/sepa/camt053.js';
import { sepaCreditorId, sepaIban, sepaId, sepaText } from '../../../src/billing/sepa/accounts.js';
import { BadRequestError } from '../../../src/kernel/errors.js';
import { checkSepaFile } from '../../../src/billing/commands.js';
import { COMMUNITY, STATEMENTS } from './fixtures.js';
import { camt053, type FixtureTransaction } from './camt-fixture.js';

const directory = defaultSepaSchemaDirectory();
const schemas: SepaSchemas | undefined = directory ? loadSepaSchemas(directory) : undefined;
if (!schemas) process.stderr.write('sepa.test: no ISO 20022 XSDs (server/src/billing/sepa/iso20022 is missing and neither $SEPA_XSD_DIR nor ../shared/sepa is there): schema validation is skipped\n');
afterAll(() => schemas?.dispose());

/** Validates against the version's XSD (a schema folder without it fails the test). */
function validated(xml: string, version: SepaSchemaVersion): string {
  schemas?.validate(xml, version);
  return xml;
}

const plan = planPayments(STATEMENTS);
const header = { messageId: 'SUN-2026-10-DD', createdAtMs: Date.parse('2026-11-03T09:00:00Z'), executionDate: '2026-11-17' };

describe('SEPA accounts and texts', () => {
  it('validates IBANs (check digits, country length, SEPA membership), creditor ids and identifiers', () => {
    expect(sepaIban('de89 3704 0044 0532 0130 00', 'iban')).toBe('DE89370400440532013000');
    expect(() => sepaIban('DE89 3704 0044 0532 0130 01', 'iban')).toThrow(/not a valid IBAN/);
    expect(() => sepaIban('DE89 3704 0044 0532 0130', 'iban')).toThrow(/not a valid IBAN/);
    expect(() => sepaIban('BR15 0000 0000 0000 1093 2840 814P2', 'iban')).toThrow(/not in the SEPA scheme/);
    expect(sepaCreditorId('DE98 ZZZ 09999999999', 'c')).toBe('DE98ZZZ09999999999');
    expect(() => sepaCreditorId('DE97ZZZ09999999999', 'c')).toThrow(/check digits/);
    expect(() => sepaCreditorId('XX98ZZZ09999999999', 'c')).toThrow(BadRequestError);
    expect(sepaText('Bücherei & Schule <Nord> – Zoë Ó Briain, Straße', 140)).toBe('Buecherei Schule Nord Zoe O Briain, Strasse');
    expect(sepaText('x'.repeat(200), 70)).toHaveLength(70);
    expect(() => sepaId('has<angle>', 'id')).toThrow(BadRequestError);
    expect(() => sepaId('x'.repeat(36), 'id')).toThrow(BadRequestError);
    expect(() => sepaId(' lead', 'id')).toThrow(BadRequestError);
  });
});

describe('payments of a closed period', () => {
  it('debits who owes under a mandate, pays who is owed, skips zero, lists bad items without blocking the rest', () => {
    expect(plan.debits.map((d) => [d.statementId, d.amountCents, d.mandateId, d.mandateSignedOn, d.name])).toEqual([
      ['s1', 1156n, 'SUN-M-0001', '2026-01-15', 'Anna Mueller'],
      ['s6', 123456789n, 'SUN-M-0006', '2026-03-01', 'Jose Garcia'],
    ]);
    expect(plan.credits.map((c) => [c.statementId, c.amountCents, c.iban, c.name])).toEqual([['s2', 459n, 'AT483200000012345864', 'Buecherei Schule Nord']]);
    expect(plan.skipped).toEqual([
      { statementId: 's4', reason: 'no direct-debit mandate: the member pays by transfer' },
      { statementId: 's5', reason: 'not a valid IBAN: "DE89 3704 0044 0532 0130 01"' },
    ]);
    const odd = planPayments([
      { ...STATEMENTS[0]!, statementId: 'chf', currency: 'CHF' },
      { ...STATEMENTS[0]!, statementId: 'nan', gross: 'NaN' },
      { ...STATEMENTS[0]!, statementId: 'huge', gross: '1000000000.00' },
      { ...STATEMENTS[0]!, statementId: 'dup1' },
      { ...STATEMENTS[0]!, statementId: 'dup2' },
      { ...STATEMENTS[0]!, statementId: 'date', invoiceNumber: 'SUN-2026-00009', mandate: { id: 'M', signedOn: '15.01.2026' } },
    ]);
    expect(odd.debits.map((d) => d.statementId)).toEqual(['dup1']);
    expect(odd.skipped.map((s) => s.statementId)).toEqual(['chf', 'nan', 'huge', 'dup2', 'date']);
  });
});

describe('pain.008 direct debits and pain.001 credit transfers', () => {
  for (const version of DIRECT_DEBIT_VERSIONS) {
    it(`writes ${version} valid against the ISO 20022 schema, with mandate id and date per debtor`, () => {
      const xml = validated(directDebitXml({ ...header, creditor: COMMUNITY, scheme: 'CORE', sequenceType: 'RCUR', debits: plan.debits }, version), version);
      expect(xml).toContain(`xmlns="urn:iso:std:iso:20022:tech:xsd:${version}"`);
      expect(xml).toMatch(/<NbOfTxs>2<\/NbOfTxs>[\s\S]*<CtrlSum>1234579.45<\/CtrlSum>/);
      expect(xml).toMatch(/<MndtId>SUN-M-0001<\/MndtId>\s*<DtOfSgntr>2026-01-15<\/DtOfSgntr>/);
      expect(xml).toMatch(/<EndToEndId>SUN-2026-00006<\/EndToEndId>\s*<\/PmtId>\s*<InstdAmt Ccy="EUR">1234567.89<\/InstdAmt>/);
      expect(xml).toContain(version.endsWith('08') ? '<BICFI>COBADEFFXXX</BICFI>' : '<BIC>COBADEFFXXX</BIC>');
      expect(xml).toContain('<Id>NOTPROVIDED</Id>'); // José's bank has no BIC on file: IBAN-only
    });
  }

  for (const version of CREDIT_TRANSFER_VERSIONS) {
    it(`writes ${version} valid against the ISO 20022 schema`, () => {
      const xml = validated(creditTransferXml({ ...header, messageId: 'SUN-2026-10-CT', debtor: COMMUNITY, transfers: plan.credits }, version), version);
      expect(xml).toMatch(/<EndToEndId>SUN-2026-00002<\/EndToEndId>[\s\S]*<InstdAmt Ccy="EUR">4.59<\/InstdAmt>/);
      expect(xml).toContain(version.endsWith('09') ? '<ReqdExctnDt>\n        <Dt>2026-11-17</Dt>' : '<ReqdExctnDt>2026-11-17</ReqdExctnDt>');
    });
  }

  it('escapes what it writes and refuses a file it cannot write correctly', () => {
    expect(() => directDebitXml({ ...header, creditor: { ...COMMUNITY, creditorId: undefined }, scheme: 'CORE', sequenceType: 'RCUR', debits: plan.debits }, 'pain.008.001.02')).toThrow(/creditor identifier/);
    expect(() => directDebitXml({ ...header, creditor: COMMUNITY, scheme: 'CORE', sequenceType: 'RCUR', debits: [] }, 'pain.008.001.02')).toThrow(/at least one transaction/);
    expect(() => creditTransferXml({ ...header, messageId: 'bad <id>', debtor: COMMUNITY, transfers: plan.credits }, 'pain.001.001.03')).toThrow(BadRequestError);
    expect(() => creditTransferXml({ ...header, createdAtMs: Number.NaN, debtor: COMMUNITY, transfers: plan.credits }, 'pain.001.001.03')).toThrow(BadRequestError);
    // What the XSDs' ISODate and ISODateTime refuse is refused before a file is written.
    expect(() => creditTransferXml({ ...header, createdAtMs: Date.parse('+010000-01-01T00:00:00Z'), debtor: COMMUNITY, transfers: plan.credits }, 'pain.001.001.09')).toThrow(/creation time/);
    for (const executionDate of ['2026-02-30', '2026-13-01', '0000-01-01', '2026-1-5']) {
      expect(() => directDebitXml({ ...header, executionDate, creditor: COMMUNITY, scheme: 'CORE', sequenceType: 'RCUR', debits: plan.debits }, 'pain.008.001.08'), executionDate).toThrow(/executionDate: not a date/);
    }
    const xml = creditTransferXml({ ...header, debtor: COMMUNITY, transfers: [{ ...plan.credits[0]!, remittance: 'a & b' }] }, 'pain.001.001.03');
    expect(xml).toContain('<Ustrd>a &amp; b</Ustrd>');
  });

  it('writes a BIC the 2009 schemas cannot carry IBAN-only there, and as it is in the 2019 versions', () => {
    // ISO 9362:2014 allows 0/1 first and O second in the location code; the 2009 BICIdentifier does not.
    const bics = { creditor: 'BKAUAT0W', debtor: 'COBADEFO' };
    const odd = planPayments(STATEMENTS.map((s) => (s.bic ? { ...s, bic: bics.debtor } : s)));
    for (const version of DIRECT_DEBIT_VERSIONS) {
      const xml = validated(directDebitXml({ ...header, creditor: { ...COMMUNITY, bic: bics.creditor }, scheme: 'CORE', sequenceType: 'RCUR', debits: odd.debits }, version), version);
      if (version === 'pain.008.001.08') expect([xml.includes('<BICFI>BKAUAT0W</BICFI>'), xml.includes('<BICFI>COBADEFO</BICFI>')]).toEqual([true, true]);
      else expect([xml.includes('BKAUAT0W'), xml.includes('COBADEFO'), xml.match(/<Id>NOTPROVIDED<\/Id>/g)?.length]).toEqual([false, false, 3]);
    }
    for (const version of CREDIT_TRANSFER_VERSIONS) {
      const xml = validated(creditTransferXml({ ...header, debtor: { ...COMMUNITY, bic: bics.creditor }, transfers: [{ ...plan.credits[0]!, bic: bics.debtor }] }, version), version);
      expect(xml.includes('BKAUAT0W'), version).toBe(version === 'pain.001.001.09');
      expect(xml.includes('COBADEFO'), version).toBe(version === 'pain.001.001.09');
    }
    // A BIC the 2009 pattern takes is kept in both.
    expect(directDebitXml({ ...header, creditor: COMMUNITY, scheme: 'CORE', sequenceType: 'RCUR', debits: plan.debits }, 'pain.008.001.02')).toContain('<BIC>BKAUATWW</BIC>');
  });

  it('skips a debit whose mandate date is no calendar date, naming it', () => {
    const odd = planPayments([{ ...STATEMENTS[0]!, mandate: { id: 'SUN-M-0001', signedOn: '2026-02-31' } }, STATEMENTS[5]!]);
    expect(odd.debits.map((d) => d.statementId)).toEqual(['s6']);
    expect(odd.skipped).toEqual([{ statementId: 's1', reason: expect.stringMatching(/^mandate\/signedOn: not a date YYYY-MM-DD .*"2026-02-31"$/) }]);
  });

  it.runIf(schemas)('the schema check catches a broken file (it is not a formality)', () => {
    const xml = directDebitXml({ ...header, creditor: COMMUNITY, scheme: 'CORE', sequenceType: 'RCUR', debits: plan.debits }, 'pain.008.001.02');
    expect(() => schemas!.validate(xml.replace('<SeqTp>RCUR</SeqTp>', '<SeqTp>SOMETIMES</SeqTp>'), 'pain.008.001.02')).toThrow(/not valid against pain.008.001.02 \(line \d+\)/);
    expect(() => schemas!.validate(xml, 'pain.008.001.08')).toThrow(/not valid/);
  });
});

describe('camt.053 bank statements', () => {
  const transactions: FixtureTransaction[] = [
    // s1 collected by direct debit, then returned for insufficient funds.
    { direction: 'CRDT', amount: '11.56', bookingDate: '2026-11-17', endToEndId: 'SUN-2026-00001', counterparty: 'Anna Mueller', remittance: 'Rechnung SUN-2026-00001' },
    { direction: 'DBIT', amount: '11.56', bookingDate: '2026-11-19', endToEndId: 'SUN-2026-00001', returnReason: 'AM04' },
    // s2 paid out to the producer.
    { direction: 'DBIT', amount: '4.59', bookingDate: '2026-11-17', endToEndId: 'SUN-2026-00002', counterparty: 'Buecherei' },
    // s4 pays by own transfer, in two parts, the number only in the text.
    { direction: 'CRDT', amount: '15.00', bookingDate: '2026-11-10', remittance: 'Invoice SUN-2026-00004 part 1' },
    { direction: 'CRDT', amount: '5.00', bookingDate: '2026-11-12', remittance: 'rest of SUN-2026-00004, thanks' },
    // s6 pays part only.
    { direction: 'CRDT', amount: '1000.00', bookingDate: '2026-11-17', endToEndId: 'SUN-2026-00006' },
    // Unrelated, a lookalike number, a pending entry, a wrong-way payment.
    { direction: 'CRDT', amount: '50.00', bookingDate: '2026-11-11', remittance: 'donation' },
    { direction: 'CRDT', amount: '20.00', bookingDate: '2026-11-11', remittance: 'SUN-2026-000044' },
    { direction: 'CRDT', amount: '20.00', bookingDate: '2026-11-21', remittance: 'SUN-2026-00004', status: 'PDNG' },
    { direction: 'CRDT', amount: '4.59', bookingDate: '2026-11-18', endToEndId: 'SUN-2026-00002' },
  ];
  const open = [
    { statementId: 's1', invoiceNumber: 'SUN-2026-00001', grossCents: 1156n },
    { statementId: 's2', invoiceNumber: 'SUN-2026-00002', grossCents: -459n },
    { statementId: 's4', invoiceNumber: 'SUN-2026-00004', grossCents: 2000n },
    { statementId: 's6', invoiceNumber: 'SUN-2026-00006', grossCents: 123456789n },
  ];

  for (const version of ['02', '08'] as const) {
    it(`reads camt.053.001.${version} and matches payments by end-to-end id and remittance text`, () => {
      const xml = validated(camt053(version, transactions), `camt.053.001.${version}`);
      const file = readBankStatement(xml);
      expect(file.version).toBe(`camt.053.001.${version}`);
      expect(file.notBooked).toBe(1);
      expect(file.transactions).toHaveLength(9);
      expect(file.transactions[0]).toMatchObject({ accountIban: 'AT611904300234573201', direction: 'credit', amountCents: 1156n, endToEndId: 'SUN-2026-00001', counterparty: 'Anna Mueller' });
      expect(file.transactions[3]).not.toHaveProperty('endToEndId'); // NOTPROVIDED is no reference
      const { matches, unmatched } = matchPayments(file.transactions, open);
      expect(matches).toEqual([
        { statementId: 's1', status: 'failed', settledCents: 0n, lastBookingDate: '2026-11-19', returnReasons: ['AM04'] },
        { statementId: 's2', status: 'paid', settledCents: 459n, lastBookingDate: '2026-11-17', returnReasons: [] },
        { statementId: 's4', status: 'paid', settledCents: 2000n, lastBookingDate: '2026-11-12', returnReasons: [] },
        { statementId: 's6', status: 'partial', settledCents: 100000n, lastBookingDate: '2026-11-17', returnReasons: [] },
      ]);
      expect(unmatched.map((u) => [u.transaction.amountCents, u.reason.split(':')[0]])).toEqual([
        [5000n, 'no open statement with this end-to-end id or invoice number'],
        [2000n, 'no open statement with this end-to-end id or invoice number'],
        [459n, 'a credit payment does not fit SUN-2026-00002, which is owed to the member'],
      ]);
    });
  }

  it('refuses hostile and malformed XML with a clear error and reads nothing', () => {
    const good = camt053('02', transactions.slice(0, 1));
    const hostile = [
      good.replace('<Document', '<!DOCTYPE Document [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>\n<Document').replace('Anna Mueller', '&lol2;'),
      good.replace('<Document', '<!DOCTYPE Document SYSTEM "file:///etc/passwd">\n<Document'),
      good.replace('Anna Mueller', '&xxe;'),
      good.replace('<BkToCstmrStmt>', '<?evil instruction?><BkToCstmrStmt>'),
      good.replace('camt.053.001.02', 'pain.008.001.02'),
      good.replace('</Document>', ''),
      good.replace('<Amt Ccy="EUR">11.56</Amt>', '<Amt Ccy="EUR">1e3</Amt>'),
      good.replace('<Amt Ccy="EUR">11.56</Amt>', '<Amt>11.56</Amt>'),
      good.replace('<Amt Ccy="EUR">11.56</Amt>', '<Amt Ccy="EUR">-11.56</Amt>'),
      good.replace('<Amt Ccy="EUR">11.56</Amt>', '<Amt Ccy="EUR">NaN</Amt>'),
      good.replace(/<CdtDbtInd>CRDT<\/CdtDbtInd>(\s*<Sts>)/, '<CdtDbtInd>BOTH</CdtDbtInd>$1'),
      good.replace('<BookgDt>', '<BookgDtX>').replace('</BookgDt>', '</BookgDtX>'),
      `<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">${'<a>'.repeat(100)}${'</a>'.repeat(100)}</Document>`,
      'not xml at all',
      '',
    ];
    hostile.forEach((xml, index) => expect(() => readBankStatement(xml), `case ${index}`).toThrow(BadRequestError));
    expect(() => readBankStatement(`<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">${' '.repeat(33 * 1024 * 1024)}</Document>`)).toThrow(/at most/);
    if (schemas) expect(() => schemas.validate(hostile[0]!, 'camt.053.001.02')).toThrow(/DOCTYPE/);
  });
});

describe('gridshare sepa check', () => {
  it.runIf(schemas)('validates a file by the version its namespace names and summarises it', () => {
    const pain = directDebitXml({ ...header, creditor: COMMUNITY, scheme: 'CORE', sequenceType: 'RCUR', debits: plan.debits }, 'pain.008.001.08');
    expect(checkSepaFile(pain, directory!)).toEqual({ version: 'pain.008.001.08', transactions: 2, totals: { control_sum: '1234579.45' } });
    const camt = camt053('02', [{ direction: 'CRDT', amount: '11.56', bookingDate: '2026-11-17' }, { direction: 'DBIT', amount: '4.59', bookingDate: '2026-11-17' }]);
    expect(checkSepaFile(camt, directory!).totals).toEqual({ booked_credits: '11.56', booked_debits: '4.59', not_booked_entries: '0' });
    expect(() => checkSepaFile(pain.replace('<ChrgBr>SLEV</ChrgBr>', '<ChrgBr>FREE</ChrgBr>'), directory!)).toThrow(/not valid against pain.008.001.08/);
  });

  it('names what it does not support', () => {
    expect(() => checkSepaFile('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"/>', '/nonexistent')).toThrow(/not a supported SEPA file: its namespace names pacs.008.001.08/);
  });
});
