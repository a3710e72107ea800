import type { PayableStatement } from '../../../src/billing/sepa/payments.js';

/** Real check digits, fictitious people: IBANs from the national examples, the Bundesbank's test creditor id. */
export const COMMUNITY = { name: 'EEG Sonnenstraße', iban: 'AT61 1904 3002 3457 3201', bic: 'BKAUATWW', creditorId: 'DE98ZZZ09999999999' };

export const STATEMENTS: PayableStatement[] = [
  { statementId: 's1', invoiceNumber: 'SUN-2026-00001', memberName: 'Anna Müller', currency: 'EUR', gross: '11.56', iban: 'DE89 3704 0044 0532 0130 00', bic: 'COBADEFFXXX', mandate: { id: 'SUN-M-0001', signedOn: '2026-01-15' }, remittance: 'Rechnung SUN-2026-00001 Oktober 2026' },
  { statementId: 's2', invoiceNumber: 'SUN-2026-00002', memberName: 'Bücherei & Schule <Nord>', currency: 'EUR', gross: '-4.59', iban: 'AT48 3200 0000 1234 5864', remittance: 'Gutschrift SUN-2026-00002' },
  { statementId: 's3', invoiceNumber: 'SUN-2026-00003', memberName: 'Zoë Ó Briain', currency: 'EUR', gross: '0.00', iban: 'IE29 AIBK 9311 5212 3456 78', remittance: 'nothing due' },
  { statementId: 's4', invoiceNumber: 'SUN-2026-00004', memberName: 'No Mandate', currency: 'EUR', gross: '20.00', iban: 'FR14 2004 1010 0505 0001 3M02 606', remittance: 'SUN-2026-00004' },
  { statementId: 's5', invoiceNumber: 'SUN-2026-00005', memberName: 'Bad Iban', currency: 'EUR', gross: '5.00', iban: 'DE89 3704 0044 0532 0130 01', mandate: { id: 'SUN-M-0005', signedOn: '2026-02-01' }, remittance: 'SUN-2026-00005' },
  { statementId: 's6', invoiceNumber: 'SUN-2026-00006', memberName: 'José García', currency: 'EUR', gross: '1234567.89', iban: 'ES91 2100 0418 4502 0005 1332', mandate: { id: 'SUN-M-0006', signedOn: '2026-03-01' }, remittance: 'SUN-2026-00006' },
];
