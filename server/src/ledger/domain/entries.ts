/**
 * Making log entries (the format, its checks and its reading are the contract's
 * `proof/entries.ts`, shared with the browser's verifier): one per event that matters for money
 * or trust, with hashes and salted commitments of personal data, never the data itself.
 */
import canonicalize from 'canonicalize';
import { formatUtcInstant } from '../../kernel/time.js';
import { ed25519Sign, run, type Bytes } from './crypto.js';
import { toBase64, utf8 } from './bytes.js';
import { didKeyFromSeed } from './did-key.js';
import { LedgerError } from './errors.js';
import { MAX_ENTRY_BYTES } from './tiles.js';
import * as proof from '@gridshare/contract/proof/entries';
import * as document from '@gridshare/contract/proof/document';
import { documentWithoutFields } from '@gridshare/contract/proof/document';
import {
  ENTRY_VERSION, entrySignedBytes, validateEntry, type DocumentCommitment, type ErasableFields, type EntrySignature, type LedgerEntry, type PeriodText,
  type StatementIssuedEntry, type StatementCorrectedEntry, type SettlementClosedEntry, type OperatorImportAcceptedEntry, type CommandIssuedEntry,
  type MarketTradeEntry, type MarketMovementsEntry, type MarketSettlementEntry, type FlexMessageEntry, type ConsentChangedEntry, type ChangeRecordedEntry,
} from '@gridshare/contract/proof/entries';

export {
  ENTRY_VERSION, ENTRY_KINDS, validateEntry, decodeEntry, entrySignedBytes,
  type EntryKind, type LedgerEntry, type PeriodText, type DocumentCommitment, type ErasableFields, type EntrySignature, type CommunitySignature,
  type StatementIssuedEntry, type StatementCorrectedEntry, type SettlementClosedEntry, type OperatorImportAcceptedEntry, type CommandIssuedEntry,
  type MarketTradeEntry, type MarketMovementsEntry, type MarketSettlementEntry, type FlexMessageEntry, type ConsentChangedEntry, type ChangeRecordedEntry,
} from '@gridshare/contract/proof/entries';

// ---- constructors ----

export interface EventBase {
  /** When the event happened (UTC ms; passed in, never read from a clock here). */
  readonly at: number;
  readonly community: string;
}

/** A period given as UTC ms, start inclusive, end exclusive. */
export interface Period {
  readonly start: number;
  readonly end: number;
}

const periodText = (period: Period): PeriodText => ({ start: formatUtcInstant(period.start), end: formatUtcInstant(period.end) });

function make<E extends LedgerEntry>(kind: E['kind'], base: EventBase, fields: Omit<E, 'v' | 'kind' | 'at' | 'community' | 'signatures'>): E {
  if (!Number.isFinite(base.at)) throw new LedgerError('malformed', 'entry field at: expected a UTC instant');
  return validateEntry({ v: ENTRY_VERSION, kind, at: formatUtcInstant(base.at), community: base.community, ...fields }) as E;
}

/** What an entry commits to for a document: SHA-256 of exactly these bytes, their type and length. */
export const documentCommitment = (bytes: Bytes, mediaType: string): DocumentCommitment => run(document.documentCommitment(bytes, mediaType));

export { documentWithoutFields };

/** The `erasable` commitment of a JSON document: the same document without its personal fields. */
export function erasableFields(bytes: Bytes, fields: readonly string[]): ErasableFields {
  const rest = documentWithoutFields(bytes, fields);
  if (!rest) throw new LedgerError('malformed', 'only a JSON object document has erasable fields');
  return { fields: [...fields], document: documentCommitment(rest, 'application/json') };
}

export const statementIssued = (base: EventBase, e: { statement: string; member: string; period: Period; document: DocumentCommitment; erasable?: ErasableFields }): StatementIssuedEntry =>
  make('statement.issued', base, { statement: e.statement, member: e.member, period: periodText(e.period), document: e.document, ...erasableOf(e) });

export const statementCorrected = (
  base: EventBase,
  e: { statement: string; member: string; period: Period; document: DocumentCommitment; erasable?: ErasableFields; corrects: { statement: string; sha256: string }; reason: string },
): StatementCorrectedEntry =>
  make('statement.corrected', base, {
    statement: e.statement, member: e.member, period: periodText(e.period), document: e.document, ...erasableOf(e), corrects: e.corrects, reason: e.reason,
  });

const erasableOf = (e: { erasable?: ErasableFields }) => (e.erasable ? { erasable: { fields: [...e.erasable.fields], document: e.erasable.document } } : {});

export const settlementClosed = (
  base: EventBase,
  e: { settlement: string; period: Period; currency: string; totals: Readonly<Record<string, string>>; statements: number },
): SettlementClosedEntry =>
  make('settlement.closed', base, { settlement: e.settlement, period: periodText(e.period), currency: e.currency, totals: { ...e.totals }, statements: e.statements });

export const operatorImportAccepted = (
  base: EventBase,
  e: { import: string; operator: string; format: string; period: Period; document: DocumentCommitment; meteringPoints: number },
): OperatorImportAcceptedEntry =>
  make('operator-import.accepted', base, { import: e.import, operator: e.operator, format: e.format, period: periodText(e.period), document: e.document, meteringPoints: e.meteringPoints });

export const commandIssued = (base: EventBase, e: { command: string; device: string; action: string; payloadSha256: string }): CommandIssuedEntry =>
  make('command.issued', base, { command: e.command, device: e.device, action: e.action, payloadSha256: e.payloadSha256 });

export const marketTrade = (
  base: EventBase,
  e: { trade: string; slot: Period; buyer: string; seller: string; energyWh: string; price: string; currency: string },
): MarketTradeEntry =>
  make('market.trade', base, { trade: e.trade, slot: periodText(e.slot), buyer: e.buyer, seller: e.seller, energyWh: e.energyWh, price: e.price, currency: e.currency });

export const flexMessage = (
  base: EventBase,
  e: { message: { type: string; id: string; conversation: string }; direction: 'sent' | 'received'; sender: string; recipient: string; sha256: string; signer?: string },
): FlexMessageEntry =>
  make('flex.message', base, {
    message: { ...e.message }, direction: e.direction, sender: e.sender, recipient: e.recipient, sha256: e.sha256,
    ...(e.signer === undefined ? {} : { signer: e.signer }),
  });

export const consentChanged = (
  base: EventBase,
  e: { subject: string; grantee: string; purpose: string; state: 'granted' | 'revoked'; validUntil?: number; termsSha256: string },
): ConsentChangedEntry =>
  make('consent.changed', base, {
    subject: e.subject, grantee: e.grantee, purpose: e.purpose, state: e.state, termsSha256: e.termsSha256,
    ...(e.validUntil === undefined ? {} : { validUntil: formatUtcInstant(e.validUntil) }),
  });

export const changeRecorded = (base: EventBase, e: { change: string; resource: string; action: string; role: string; diffSha256: string }): ChangeRecordedEntry =>
  make('change.recorded', base, { change: e.change, resource: e.resource, action: e.action, role: e.role, diffSha256: e.diffSha256 });

export const marketMovements = (base: EventBase, e: { first: number; last: number; currency: string; total: string; root: string }): MarketMovementsEntry =>
  make('market.movements', base, { postings: { first: e.first, last: e.last }, currency: e.currency, total: e.total, root: e.root });

export const marketSettlement = (
  base: EventBase,
  e: { run: number; slots: Period; slotCount: number; positions: number; lines: number; currency: string; root: string },
): MarketSettlementEntry =>
  make('market.settlement', base, {
    run: e.run, slots: periodText(e.slots), slotCount: e.slotCount, positions: e.positions, lines: e.lines, currency: e.currency, root: e.root,
  });

// ---- bytes ----

/** The entry as logged: its RFC 8785 canonical JSON in UTF-8. */
export function encodeEntry(entry: LedgerEntry): Bytes {
  const bytes = utf8(canonicalize(validateEntry(entry))!);
  if (bytes.length > MAX_ENTRY_BYTES) throw new LedgerError('out_of_range', `an entry is at most ${MAX_ENTRY_BYTES} bytes, this one ${bytes.length}`);
  return bytes;
}

/** Adds a signature by the key with this Ed25519 seed (named by its did:key). */
export function signEntry<E extends LedgerEntry>(entry: E, seed: Bytes): E {
  const signature: EntrySignature = { did: didKeyFromSeed(seed), signature: toBase64(ed25519Sign(seed, entrySignedBytes(entry))) };
  return validateEntry({ ...entry, signatures: [...(entry.signatures ?? []), signature] }) as E;
}

/** A salted commitment to a personal identifier (see the contract's `commitment`). */
export const commitment = (salt: Bytes, value: string): string => run(proof.commitment(salt, value));

/** The entry's community signature, checked (see the contract's `checkCommunitySignature`). */
export const checkCommunitySignature = (entry: LedgerEntry, communityDid?: string) => run(proof.checkCommunitySignature(entry, communityDid));

/** Each signature of the entry, checked against the key its did:key names. */
export const checkEntrySignatures = (entry: LedgerEntry) => run(proof.checkEntrySignatures(entry));
