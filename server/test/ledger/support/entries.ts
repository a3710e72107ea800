import {
  changeRecorded, commandIssued, commitment, consentChanged, didKeyFromPublicKey, documentCommitment, flexMessage, marketMovements, marketSettlement, marketTrade,
  operatorImportAccepted, settlementClosed, statementCorrected, statementIssued, type LedgerEntry,
} from '../../../src/ledger/domain/index.js';
import { ed25519PublicKey } from '../../../src/ledger/domain/crypto.js';

export const SALT = new Uint8Array(32).fill(9);
export const at = Date.UTC(2026, 10, 30, 12, 0, 0);
export const base = { at, community: 'sunny-street' };
export const november = { start: Date.UTC(2026, 9, 31, 23), end: Date.UTC(2026, 10, 30, 23) };
export const pdf = new TextEncoder().encode('%PDF-1.7 statement of member 01 for November\n%%EOF\n');
export const member = commitment(SALT, 'member-7f3a');
export const seed = new Uint8Array(32).fill(3);

/** One entry of every kind, made with the constructors phase 2 will call. */
export function oneOfEachKind(): LedgerEntry[] {
  const issued = statementIssued(base, { statement: 'st-2026-11-0001', member, period: november, document: documentCommitment(pdf, 'application/pdf') });
  return [
    issued,
    statementCorrected(base, {
      statement: 'st-2026-11-0001-r1', member, period: november, document: documentCommitment(new TextEncoder().encode('{"corrected":true}'), 'application/json'),
      corrects: { statement: issued.statement, sha256: issued.document.sha256 }, reason: 'meter-data-corrected',
    }),
    settlementClosed(base, {
      settlement: 'set-2026-11', period: november, currency: 'EUR', statements: 31,
      totals: { consumptionWh: '812345', sharedWh: '301234', communityAmount: '1234.56', gridFeeReduction: '-12.30' },
    }),
    operatorImportAccepted(base, {
      import: 'imp-42', operator: 'AT001000', format: 'eda-consumption-record', period: november,
      document: documentCommitment(new TextEncoder().encode('<ConsumptionRecord/>'), 'application/xml'), meteringPoints: 30,
    }),
    commandIssued(base, { command: 'cmd-9', device: commitment(SALT, 'device-77'), action: 'battery-setpoint', payloadSha256: 'a'.repeat(64) }),
    marketTrade(base, {
      trade: 'tr-1', slot: { start: Date.UTC(2026, 10, 30, 12), end: Date.UTC(2026, 10, 30, 12, 15) }, buyer: member,
      seller: commitment(SALT, 'member-0001'), energyWh: '1250', price: '0.1425', currency: 'EUR',
    }),
    flexMessage(base, {
      message: { type: 'FlexRequest', id: '3f1a7c1e-2c4b-4c8e-9a51-0c1b2d3e4f50', conversation: '9a1a7c1e-2c4b-4c8e-9a51-0c1b2d3e4f50' },
      direction: 'received', sender: 'dso.example.org', recipient: 'sunny-street.example.org', sha256: 'b'.repeat(64),
      signer: didKeyFromPublicKey(ed25519PublicKey(seed)),
    }),
    consentChanged(base, { subject: member, grantee: 'energy-advice-gmbh', purpose: 'load-analysis', state: 'granted', validUntil: Date.UTC(2027, 10, 30), termsSha256: 'd'.repeat(64) }),
    changeRecorded(base, { change: 'tariff', resource: '5b0c7a0e-1d2f-4a3b-8c4d-5e6f7a8b9c0d', action: 'update', role: 'manager', diffSha256: 'c'.repeat(64) }),
    marketMovements(base, { first: 1, last: 29_876, currency: 'EUR', total: '1234.567890125', root: 'e'.repeat(64) }),
    marketSettlement(base, { run: 0, slots: { start: Date.UTC(2026, 10, 29, 23), end: Date.UTC(2026, 10, 30, 23) }, slotCount: 96, positions: 19_200, lines: 29_876, currency: 'EUR', root: 'f'.repeat(64) }),
  ];
}

