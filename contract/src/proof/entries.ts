/**
 * Log entries as a verifier reads them (the server makes them: server/src/ledger/domain/entries.ts):
 * one RFC 8785 canonical JSON object per event that matters for money or trust.
 * Entries hold hashes and salted commitments of personal data, never the data itself: erasing a
 * member's salt (phase 2, privacy) leaves every entry and proof intact but unlinkable to them.
 *
 * Every entry has `v` (the entry format version), `kind`, `at` (UTC instant of the event) and
 * `community`, then the fields of its kind; `signatures` (optional) are Ed25519 signatures by
 * did:key identities over the rest of the entry.
 *
 * How a document (a member's statement as PDF or JSON, an operator's import file) is committed:
 * SHA-256 of the exact bytes that were issued or received, with their media type and length.
 * Anyone holding the file can check it against the entry; nobody can recover it from the entry.
 */
import canonicalize from 'canonicalize';
import { ed25519Verify, sha256, type Bytes, type Computation } from './computation.js';
import { concatBytes, decodeUtf8, fromBase64, toHex, utf8 } from './bytes.js';
import { publicKeyFromDidKey } from './did-key.js';
import { ProofError } from './errors.js';

export const ENTRY_VERSION = 1;

export const ENTRY_KINDS = [
  'statement.issued', 'statement.corrected', 'settlement.closed', 'operator-import.accepted',
  'command.issued', 'market.trade', 'flex.message', 'consent.changed', 'change.recorded',
  'market.movements', 'market.settlement',
] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];

/** A period as UTC instants, start inclusive, end exclusive. */
export interface PeriodText {
  readonly start: string;
  readonly end: string;
}

export interface DocumentCommitment {
  readonly mediaType: string;
  /** SHA-256 of the exact bytes, lower-case hex. */
  readonly sha256: string;
  readonly size: number;
}

/**
 * The same document with its personal fields removed (top-level JSON keys, e.g. the member's name):
 * what a statement kept under a pseudonym after an erasure still verifies against — every figure
 * covered, the named fields not.
 */
export interface ErasableFields {
  readonly fields: readonly string[];
  readonly document: DocumentCommitment;
}

export interface EntrySignature {
  readonly did: string;
  /** Base64 Ed25519 signature over `gridshare/entry-signature/v1\n` ‖ the entry without `signatures`. */
  readonly signature: string;
}

interface Envelope<K extends EntryKind> {
  readonly v: typeof ENTRY_VERSION;
  readonly kind: K;
  readonly at: string;
  readonly community: string;
  readonly signatures?: readonly EntrySignature[];
}

export interface StatementIssuedEntry extends Envelope<'statement.issued'> {
  readonly statement: string;
  /** Commitment to the member (see `commitment`). */
  readonly member: string;
  readonly period: PeriodText;
  readonly document: DocumentCommitment;
  /** Absent in entries logged before erasable fields were committed to. */
  readonly erasable?: ErasableFields;
}

export interface StatementCorrectedEntry extends Envelope<'statement.corrected'> {
  readonly statement: string;
  readonly member: string;
  readonly period: PeriodText;
  readonly document: DocumentCommitment;
  readonly erasable?: ErasableFields;
  /** The statement this one replaces, and the document hash it had. */
  readonly corrects: { readonly statement: string; readonly sha256: string };
  /** A reason code (free text could carry personal data). */
  readonly reason: string;
}

export interface SettlementClosedEntry extends Envelope<'settlement.closed'> {
  readonly settlement: string;
  readonly period: PeriodText;
  readonly currency: string;
  /** Community totals by name: energy in whole Wh, money in the currency, as exact decimal strings. */
  readonly totals: Readonly<Record<string, string>>;
  readonly statements: number;
}

export interface OperatorImportAcceptedEntry extends Envelope<'operator-import.accepted'> {
  readonly import: string;
  /** The grid operator (market partner id). */
  readonly operator: string;
  /** The message format, e.g. `eda-consumption-record`. */
  readonly format: string;
  readonly period: PeriodText;
  readonly document: DocumentCommitment;
  readonly meteringPoints: number;
}

export interface CommandIssuedEntry extends Envelope<'command.issued'> {
  readonly command: string;
  /** Commitment to the device (it belongs to a member). */
  readonly device: string;
  readonly action: string;
  /** SHA-256 of the exact command payload sent. */
  readonly payloadSha256: string;
}

export interface MarketTradeEntry extends Envelope<'market.trade'> {
  readonly trade: string;
  readonly slot: PeriodText;
  readonly buyer: string;
  readonly seller: string;
  readonly energyWh: string;
  /** Price per kWh in the currency, exact decimal. */
  readonly price: string;
  readonly currency: string;
}

/**
 * The postings one market transaction entered (a settlement run's, a top-up, a payout, a dispute's
 * correction …): their sequence range and the root of the Merkle tree over their records
 * (`market-records.ts`), so each posting is provable on its own.
 */
export interface MarketMovementsEntry extends Envelope<'market.movements'> {
  readonly postings: { readonly first: number; readonly last: number };
  readonly currency: string;
  /** Σ of the amounts moved, exact decimal. */
  readonly total: string;
  readonly root: string;
}

/**
 * A settlement run of market slots (run 0) or the correction of one (run ≥ 1): the root of the
 * Merkle tree over each trading member's position (metered and traded net) and each line of the run.
 */
export interface MarketSettlementEntry extends Envelope<'market.settlement'> {
  readonly run: number;
  /** From the first slot's start to the last slot's end. */
  readonly slots: PeriodText;
  readonly slotCount: number;
  readonly positions: number;
  readonly lines: number;
  readonly currency: string;
  readonly root: string;
}

export interface FlexMessageEntry extends Envelope<'flex.message'> {
  /** UFTP message type, id and conversation. */
  readonly message: { readonly type: string; readonly id: string; readonly conversation: string };
  readonly direction: 'sent' | 'received';
  /** Participant domains (organisations, not persons). */
  readonly sender: string;
  readonly recipient: string;
  /** SHA-256 of the exact signed message. */
  readonly sha256: string;
  /** The did:key of the key that signed the message, when known. */
  readonly signer?: string;
}

export interface ConsentChangedEntry extends Envelope<'consent.changed'> {
  /** Commitment to the member whose data is concerned. */
  readonly subject: string;
  /** The third party (organisation id). */
  readonly grantee: string;
  readonly purpose: string;
  readonly state: 'granted' | 'revoked';
  readonly validUntil?: string;
  /**
   * SHA-256 of the grant's terms as RFC 8785 JSON (privacy's `grantDigest`), the same in the grant
   * and its revocation: the member, holding the terms, can show which consent an entry is about.
   * Absent only in entries logged before grants carried it.
   */
  readonly termsSha256?: string;
}

/**
 * A money-relevant change a person made (a tariff, a sharing rule, a share, a settlement), as the
 * audit trail recorded it: what, which, how, by which role, and the SHA-256 of the RFC 8785
 * canonical JSON of the trail's diff (the diff itself can name members; the hash cannot).
 */
export interface ChangeRecordedEntry extends Envelope<'change.recorded'> {
  readonly change: string;
  readonly resource: string;
  readonly action: string;
  readonly role: string;
  readonly diffSha256: string;
}

export type LedgerEntry =
  | StatementIssuedEntry | StatementCorrectedEntry | SettlementClosedEntry | OperatorImportAcceptedEntry
  | CommandIssuedEntry | MarketTradeEntry | FlexMessageEntry | ConsentChangedEntry | ChangeRecordedEntry
  | MarketMovementsEntry | MarketSettlementEntry;

// ---- field checks ----

type Check = (value: unknown, field: string) => void;

function refuse(field: string, why: string): never {
  throw new ProofError('malformed', `entry field ${field}: ${why}`);
}

const text = (pattern: RegExp, what: string): Check => (value, field) => {
  if (typeof value !== 'string' || !pattern.test(value)) refuse(field, `expected ${what}`);
};

const ID = text(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'an identifier (letters, digits, . _ : -; at most 128)');
const CODE = text(/^[a-z][a-z0-9-]{0,63}$/, 'a lower-case code');
const HEX256 = text(/^[0-9a-f]{64}$/, '64 lower-case hex digits');
const CURRENCY = text(/^[A-Z]{3}$/, 'an ISO 4217 currency code');
const WHOLE = text(/^(0|[1-9]\d{0,20})$/, 'a whole number as a string');
const DECIMAL = text(/^-?(0|[1-9]\d{0,23})(\.\d{1,15})?$/, 'an exact decimal as a string');
const UNSIGNED_DECIMAL = text(/^(0|[1-9]\d{0,23})(\.\d{1,15})?$/, 'a non-negative exact decimal as a string');
const PARTICIPANT = text(/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/, 'a participant domain');
const MEDIA_TYPE = text(/^[a-z]+\/[a-z0-9.+-]{1,100}$/, 'a media type');
const MESSAGE_TYPE = text(/^[A-Z][A-Za-z-]{0,63}$/, 'a message type (UFTP\'s D-Prognosis has a hyphen)');
const oneOf = (...values: string[]): Check => (value, field) => {
  if (typeof value !== 'string' || !values.includes(value)) refuse(field, `expected one of ${values.join(', ')}`);
};

const COUNT: Check = (value, field) => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) refuse(field, 'expected a whole number ≥ 0');
};

/** The one spelling the server gives an instant: seconds always, milliseconds only when not zero. */
const CANONICAL_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.(?!000)\d{3})?Z$/;
// The platform's dates lie from 2000 to 2100 (server/src/kernel/time.ts); an entry outside is no entry of it.
const EARLIEST_MS = Date.UTC(2000, 0, 1);
const LATEST_MS = Date.UTC(2100, 0, 1);

/** The instant of a canonical UTC timestamp that exists on the calendar (no 31 April) and lies in the platform's range. */
function instantMs(value: string): number | undefined {
  if (!CANONICAL_INSTANT.test(value)) return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms) || ms < EARLIEST_MS || ms > LATEST_MS) return undefined;
  return new Date(ms).toISOString().replace('.000Z', 'Z') === value ? ms : undefined;
}

const INSTANT: Check = (value, field) => {
  if (typeof value !== 'string' || instantMs(value) === undefined) refuse(field, 'expected a UTC instant like 2026-01-31T23:00:00Z');
};

const DID: Check = (value, field) => {
  try {
    publicKeyFromDidKey(typeof value === 'string' ? value : '');
  } catch (error) {
    refuse(field, (error as Error).message);
  }
};

function object(fields: Record<string, Check>, optional: readonly string[] = []): Check {
  return (value, field) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) refuse(field, 'expected an object');
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) if (!(key in fields)) refuse(`${field}.${key}`, 'not a field of this entry');
    for (const [key, check] of Object.entries(fields)) {
      if (record[key] === undefined && optional.includes(key)) continue;
      if (record[key] === undefined) refuse(`${field}.${key}`, 'missing');
      check(record[key], `${field}.${key}`);
    }
  };
}

const PERIOD_FIELDS = object({ start: INSTANT, end: INSTANT });
const PERIOD: Check = (value, field) => {
  PERIOD_FIELDS(value, field);
  const period = value as PeriodText;
  if (instantMs(period.start)! >= instantMs(period.end)!) refuse(field, 'start must be before end');
};

const SEQUENCE_RANGE_FIELDS = object({ first: COUNT, last: COUNT });
const SEQUENCE_RANGE: Check = (value, field) => {
  SEQUENCE_RANGE_FIELDS(value, field);
  const range = value as { first: number; last: number };
  if (range.first < 1 || range.first > range.last) refuse(field, 'expected 1 ≤ first ≤ last');
};

const DOCUMENT = object({ mediaType: MEDIA_TYPE, sha256: HEX256, size: COUNT });

const FIELD_NAMES: Check = (value, field) => {
  if (!Array.isArray(value) || value.length === 0 || value.length > 16) refuse(field, 'expected 1 to 16 field names');
  const names = value as unknown[];
  names.forEach((name, i) => { if (typeof name !== 'string' || !/^[a-z][A-Za-z0-9]{0,63}$/.test(name)) refuse(`${field}[${i}]`, 'field names are camelCase'); });
  if (new Set(names).size !== names.length) refuse(field, 'a field is named twice');
};
const ERASABLE = object({ fields: FIELD_NAMES, document: DOCUMENT });

const TOTALS: Check = (value, field) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) refuse(field, 'expected an object of totals');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 64) refuse(field, 'at most 64 totals');
  for (const [name, amount] of entries) {
    if (!/^[a-z][A-Za-z0-9]{0,63}$/.test(name)) refuse(`${field}.${name}`, 'total names are camelCase');
    DECIMAL(amount, `${field}.${name}`);
  }
};

const SIGNATURE = object({ did: DID, signature: text(/^[A-Za-z0-9+/]{86}==$/, 'a base64 Ed25519 signature') });
const SIGNATURES: Check = (value, field) => {
  if (!Array.isArray(value) || value.length === 0 || value.length > 16) refuse(field, 'expected 1 to 16 signatures');
  (value as unknown[]).forEach((sig, i) => SIGNATURE(sig, `${field}[${i}]`));
};

const ENVELOPE = { v: (value: unknown, field: string) => { if (value !== ENTRY_VERSION) refuse(field, `this verifier reads entry version ${ENTRY_VERSION}`); }, kind: oneOf(...ENTRY_KINDS), at: INSTANT, community: ID, signatures: SIGNATURES };

/** The fields of each kind, checked when an entry is made and when one is read back. */
const KIND_FIELDS: Record<EntryKind, { fields: Record<string, Check>; optional?: string[] }> = {
  'statement.issued': { fields: { statement: ID, member: HEX256, period: PERIOD, document: DOCUMENT, erasable: ERASABLE }, optional: ['erasable'] },
  'statement.corrected': {
    fields: { statement: ID, member: HEX256, period: PERIOD, document: DOCUMENT, erasable: ERASABLE, corrects: object({ statement: ID, sha256: HEX256 }), reason: CODE },
    optional: ['erasable'],
  },
  'settlement.closed': { fields: { settlement: ID, period: PERIOD, currency: CURRENCY, totals: TOTALS, statements: COUNT } },
  'operator-import.accepted': { fields: { import: ID, operator: ID, format: CODE, period: PERIOD, document: DOCUMENT, meteringPoints: COUNT } },
  'command.issued': { fields: { command: ID, device: HEX256, action: CODE, payloadSha256: HEX256 } },
  'market.trade': { fields: { trade: ID, slot: PERIOD, buyer: HEX256, seller: HEX256, energyWh: WHOLE, price: UNSIGNED_DECIMAL, currency: CURRENCY } },
  'flex.message': {
    fields: {
      message: object({ type: MESSAGE_TYPE, id: ID, conversation: ID }), direction: oneOf('sent', 'received'),
      sender: PARTICIPANT, recipient: PARTICIPANT, sha256: HEX256, signer: DID,
    },
    optional: ['signer'],
  },
  'consent.changed': { fields: { subject: HEX256, grantee: ID, purpose: CODE, state: oneOf('granted', 'revoked'), validUntil: INSTANT, termsSha256: HEX256 }, optional: ['validUntil', 'termsSha256'] },
  'change.recorded': { fields: { change: CODE, resource: ID, action: CODE, role: CODE, diffSha256: HEX256 } },
  'market.movements': { fields: { postings: SEQUENCE_RANGE, currency: CURRENCY, total: UNSIGNED_DECIMAL, root: HEX256 } },
  'market.settlement': { fields: { run: COUNT, slots: PERIOD, slotCount: COUNT, positions: COUNT, lines: COUNT, currency: CURRENCY, root: HEX256 } },
};

const ENTRY_CHECKS = new Map(Object.entries(KIND_FIELDS).map(([kind, spec]) => [kind, object({ ...ENVELOPE, ...spec.fields }, ['signatures', ...(spec.optional ?? [])])]));

/** Checks a whole entry (envelope and the fields of its kind); refuses unknown fields. */
export function validateEntry(value: unknown): LedgerEntry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) refuse('entry', 'expected a JSON object');
  const kind = (value as { kind?: unknown }).kind;
  ENVELOPE.kind(kind, 'kind');
  ENTRY_CHECKS.get(kind as EntryKind)!(value, 'entry');
  return value as LedgerEntry;
}

// ---- bytes ----

/** Reads an entry back from its logged bytes: valid, and exactly in canonical form. */
export function decodeEntry(bytes: Bytes): LedgerEntry {
  const json = decodeUtf8(bytes);
  if (json === undefined) throw new ProofError('malformed', 'the entry is not UTF-8');
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new ProofError('malformed', 'the entry is not JSON');
  }
  const entry = validateEntry(value);
  if (canonicalize(entry) !== json) throw new ProofError('malformed', 'the entry is not in RFC 8785 canonical form');
  return entry;
}


const COMMITMENT_PREFIX = utf8('gridshare/commitment/v1\n');

/**
 * A salted commitment to a personal identifier (member, device, …): SHA-256 of a domain prefix,
 * the subject's salt (at least 16 random bytes, kept by the platform) and the value. Without the
 * salt nobody can tell whose it is; deleting the salt makes it unlinkable for good.
 */
export function* commitment(salt: Bytes, value: string): Computation<string> {
  if (salt.length < 16) throw new ProofError('malformed', 'a commitment salt is at least 16 bytes');
  return toHex(yield* sha256(concatBytes(COMMITMENT_PREFIX, salt, utf8(value))));
}

// ---- signatures by did:key identities ----

const SIGNATURE_PREFIX = utf8('gridshare/entry-signature/v1\n');

/** What an entry's signatures sign: a domain prefix and the entry's RFC 8785 JSON without `signatures`. */
export function entrySignedBytes(entry: LedgerEntry): Bytes {
  const { signatures: _ignored, ...unsigned } = entry;
  return concatBytes(SIGNATURE_PREFIX, utf8(canonicalize(unsigned)!));
}

/**
 * What an entry's community signature comes to. Only the community's key signs entries (the
 * platform signs checkpoints; devices sign no entries), so an entry's signatures are its
 * community's: `absent` (an entry logged before communities had keys), `valid` (every signature
 * verifies and, when the community's published did:key is given, one is by it).
 */
export type CommunitySignature = { readonly status: 'absent' } | { readonly status: 'valid'; readonly did: string };

/**
 * The entry's community signature, checked from the entry alone (and against `communityDid`, the
 * key the community publishes, when given). A signature that does not verify, or none by the
 * community's key, is refused as `bad_signature`: the entry was not signed as logged.
 */
export function* checkCommunitySignature(entry: LedgerEntry, communityDid?: string): Computation<CommunitySignature> {
  const checked = yield* checkEntrySignatures(entry);
  if (checked.length === 0) return { status: 'absent' };
  const failed = checked.find((c) => !c.valid);
  if (failed) throw new ProofError('bad_signature', `community signature invalid: the entry's signature by ${failed.did} does not verify (the entry or its signature was changed)`);
  if (communityDid === undefined) return { status: 'valid', did: checked[0]!.did };
  if (!checked.some((c) => c.did === communityDid)) {
    throw new ProofError('bad_signature', `community signature invalid: the entry is signed by ${checked.map((c) => c.did).join(', ')}, not by the community's key ${communityDid}`);
  }
  return { status: 'valid', did: communityDid };
}

/** Each signature of the entry, checked against the key its did:key names. */
export function* checkEntrySignatures(entry: LedgerEntry): Computation<{ did: string; valid: boolean }[]> {
  const message = entrySignedBytes(entry);
  const checked: { did: string; valid: boolean }[] = [];
  for (const { did, signature } of entry.signatures ?? []) {
    checked.push({ did, valid: yield* ed25519Verify(publicKeyFromDidKey(did), message, fromBase64(signature) ?? new Uint8Array(0)) });
  }
  return checked;
}
