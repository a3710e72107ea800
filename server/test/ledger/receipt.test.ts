import { describe, expect, it } from 'vitest';
import {
  RECEIPT_FORMAT, checkCosignatures, cosign, cosignatureVerifier, encodeEntry, formatReceiptJson,
  formatReceiptTlogProof, openCheckpoint, parseReceipt, signCheckpoint, signerKeyFromSeed, verifierFromKey,
  verifierKeyOf, verifyDocument, verifyReceipt, addSignatureLines, formatCheckpoint, statementIssued, documentCommitment,
  erasableFields, decodeEntry, validateEntry, type Receipt,
} from '../../src/ledger/domain/index.js';
import canonicalize from 'canonicalize';
import { ed25519PublicKey } from '../../src/ledger/domain/crypto.js';
import { MemoryLog } from './support/memory-log.js';
import { base, member, november, oneOfEachKind, pdf } from './support/entries.js';
import { refusal } from './support/refusal.js';

const logKey = signerKeyFromSeed('ledger.sunny-street.example', new Uint8Array(32).fill(1));
const logVerifier = verifierFromKey(verifierKeyOf(logKey));
const encoder = new TextEncoder();

function buildLog(): MemoryLog {
  const log = new MemoryLog(logKey);
  const filler = Array.from({ length: 300 }, (_, i) => encoder.encode(`{"filler":${i}}`));
  log.append(filler.slice(0, 100));
  log.append(oneOfEachKind().map(encodeEntry)); // the statement is entry 100
  log.append(filler.slice(100));
  log.checkpoint();
  return log;
}

describe('receipts', () => {
  const log = buildLog();
  const receipt = log.receipt(100);

  it('verify offline, in both spellings, and the statement file matches the entry', () => {
    for (const text of [formatReceiptJson(receipt), formatReceiptTlogProof(receipt)]) {
      const parsed = parseReceipt(encoder.encode(text));
      const verified = verifyReceipt(parsed, logVerifier);
      expect(verified.index).toBe(100);
      expect(verified.checkpoint.size).toBe(log.size);
      expect(verified.entry.kind).toBe('statement.issued');
      verifyDocument(verified.entry, pdf);
    }
    expect(JSON.parse(formatReceiptJson(receipt))).toMatchObject({ format: RECEIPT_FORMAT, entry: { kind: 'statement.issued', statement: 'st-2026-11-0001' } });
    // Re-indenting the JSON receipt does not matter: the entry is canonicalised.
    const reindented = JSON.stringify(JSON.parse(formatReceiptJson(receipt)));
    expect(verifyReceipt(parseReceipt(encoder.encode(reindented)), logVerifier).index).toBe(100);
  });

  it('refuse a statement file that differs in one byte, or an entry without a document', () => {
    const entry = verifyReceipt(receipt, logVerifier).entry;
    const altered = pdf.slice();
    altered[10] = altered[10]! ^ 0x20;
    const error = refusal(() => verifyDocument(entry, altered));
    expect(error.reason).toBe('entry_mismatch');
    expect(error.message).toMatch(/its SHA-256 is [0-9a-f]{64} \(\d+ bytes\), the entry's is [0-9a-f]{64}/);
    expect(refusal(() => verifyDocument(entry, pdf.subarray(0, -1))).reason).toBe('entry_mismatch');
    const command = verifyReceipt(log.receipt(104), logVerifier).entry;
    expect(refusal(() => verifyDocument(command, pdf)).message).toMatch(/command.issued entry commits to no document/);
  });

  it('a statement kept under a pseudonym after an erasure matches its entry in every field but the erased ones', () => {
    const issuedJson = encoder.encode(canonicalize({ displayName: 'Zelda Zimmermann', total: '12.34', lines: [{ code: 'community-energy', energyWh: 41250, amount: '12.34' }] })!);
    const entry = statementIssued(base, {
      statement: 'st-2026-11-0042', member, period: november,
      document: documentCommitment(issuedJson, 'application/json'), erasable: erasableFields(issuedJson, ['displayName']),
    });
    expect(decodeEntry(encodeEntry(entry))).toEqual(entry);
    expect(verifyDocument(entry, issuedJson)).toEqual({ match: 'exact' });

    const kept = (changes: Record<string, unknown>) => {
      const document = { ...(JSON.parse(new TextDecoder().decode(issuedJson)) as Record<string, unknown>), ...changes };
      return encoder.encode(canonicalize(document)!);
    };
    // The pseudonym, whatever it is, in place of the name: every other field is still covered.
    expect(verifyDocument(entry, kept({ displayName: 'member-6f1c2a9e' }))).toEqual({ match: 'without-erased-fields', fields: ['displayName'] });
    // …also when the kept file is indented differently: the erasable form is canonical JSON.
    expect(verifyDocument(entry, encoder.encode(JSON.stringify(JSON.parse(new TextDecoder().decode(kept({ displayName: 'x' }))), null, 2)))).toMatchObject({ match: 'without-erased-fields' });
    // A changed figure is not hidden behind the erasure.
    const altered = refusal(() => verifyDocument(entry, kept({ displayName: 'member-6f1c2a9e', total: '12.35' })));
    expect(altered.reason).toBe('entry_mismatch');
    expect(altered.message).toMatch(/without its fields displayName it differs from the entry's erasable form too/);
    expect(refusal(() => verifyDocument(entry, kept({ displayName: 'x', extra: 1 }))).reason).toBe('entry_mismatch');
    // Not JSON, not an object, not UTF-8: no match, a clear refusal.
    for (const bytes of [encoder.encode('%PDF-1.7'), encoder.encode('[1,2]'), new Uint8Array([0xff, 0xfe, 0x7b, 0x7d])]) {
      expect(refusal(() => verifyDocument(entry, bytes)).reason).toBe('entry_mismatch');
    }
    // An entry without an erasable form (logged before it existed) matches only byte for byte.
    const older = statementIssued(base, { statement: 'st-2026-11-0043', member, period: november, document: documentCommitment(issuedJson, 'application/json') });
    expect(refusal(() => verifyDocument(older, kept({ displayName: 'member-6f1c2a9e' }))).reason).toBe('entry_mismatch');
  });

  it('refuse malformed erasable fields when an entry is made or read', () => {
    const document = documentCommitment(pdf, 'application/json');
    const make = (erasable: unknown) => () => statementIssued(base, { statement: 'st-1', member, period: november, document, erasable: erasable as never });
    expect(() => make({ fields: [], document })()).toThrow(/1 to 16 field names/);
    expect(() => make({ fields: ['displayName', 'displayName'], document })()).toThrow(/named twice/);
    expect(() => make({ fields: ['Display Name'], document })()).toThrow(/camelCase/);
    const read = JSON.parse(new TextDecoder().decode(encodeEntry(make({ fields: ['displayName'], document })()))) as { erasable: Record<string, unknown> };
    expect(() => validateEntry({ ...read, erasable: { ...read.erasable, salt: 'x' } })).toThrow(/entry\.erasable\.salt: not a field of this entry/);
    expect(() => erasableFields(pdf, ['displayName'])).toThrow(/only a JSON object document/);
  });

  it('refuse a changed entry, a changed proof, a changed checkpoint, a wrong key and another log', () => {
    const json = JSON.parse(formatReceiptJson(receipt)) as { entry: Record<string, unknown>; proof: string };
    const withEntry = (entry: Record<string, unknown>) => parseReceipt(encoder.encode(JSON.stringify({ ...json, entry })));
    expect(refusal(() => verifyReceipt(withEntry({ ...json.entry, statement: 'st-2026-11-0002' }), logVerifier)).reason).toBe('proof_mismatch');

    const hashes = [...receipt.proof.hashes];
    hashes[2] = hashes[2]!.map((b, i) => (i === 0 ? b ^ 1 : b));
    expect(refusal(() => verifyReceipt({ ...receipt, proof: { ...receipt.proof, hashes } }, logVerifier)).reason).toBe('proof_mismatch');
    expect(refusal(() => verifyReceipt({ ...receipt, proof: { ...receipt.proof, hashes: receipt.proof.hashes.slice(1) } }, logVerifier)).message).toMatch(/hashes where \d+ are needed/);
    expect(refusal(() => verifyReceipt({ ...receipt, proof: { ...receipt.proof, index: 101 } }, logVerifier)).reason).toBe('proof_mismatch');
    expect(refusal(() => verifyReceipt({ ...receipt, proof: { ...receipt.proof, index: log.size } }, logVerifier)).reason).toBe('out_of_range');

    const grown = receipt.proof.checkpoint.replace(`\n${log.size}\n`, `\n${log.size + 1}\n`);
    expect(refusal(() => verifyReceipt({ ...receipt, proof: { ...receipt.proof, checkpoint: grown } }, logVerifier)).reason).toBe('bad_signature');

    const otherKey = signerKeyFromSeed('ledger.sunny-street.example', new Uint8Array(32).fill(2));
    const wrong = refusal(() => verifyReceipt(receipt, verifierFromKey(verifierKeyOf(otherKey))));
    expect(wrong.reason).toBe('wrong_key');
    expect(wrong.message).toMatch(/signed by ledger\.sunny-street\.example\+[0-9a-f]{8}, not by the trusted key/);

    const otherOrigin = signCheckpoint({ origin: 'ledger.elsewhere.example', size: log.size, rootHash: log.root() }, logKey);
    expect(refusal(() => verifyReceipt({ ...receipt, proof: { ...receipt.proof, checkpoint: otherOrigin } }, logVerifier)).reason).toBe('origin_mismatch');
  });

  it('refuse malformed receipt files with a reason', () => {
    const bad = (text: string | Uint8Array) => refusal(() => parseReceipt(typeof text === 'string' ? encoder.encode(text) : text)).message;
    expect(bad('')).toMatch(/neither JSON nor/);
    expect(bad('{"format":"something-else"}')).toMatch(/not a gridshare-receipt\/v1/);
    expect(bad(`{"format":"${RECEIPT_FORMAT}","entry":[1],"proof":"x"}`)).toMatch(/no entry object/);
    expect(bad(`{"format":"${RECEIPT_FORMAT}","entry":{},"proof":"x"}`)).toMatch(/missing expected header/);
    expect(bad(formatReceiptTlogProof({ ...receipt, entry: new Uint8Array(0) }).replace(/^extra .*\n/m, ''))).toMatch(/carries no entry/);
    expect(bad(new Uint8Array([0xc3, 0x28]))).toMatch(/not UTF-8/);
    const garbage: Receipt = { entry: encoder.encode('not json'), proof: receipt.proof };
    expect(refusal(() => verifyReceipt(garbage, logVerifier)).reason).toBe('proof_mismatch');
  });
});

describe('checkpoints', () => {
  it('sign their extension lines with the rest, and refuse empty ones', () => {
    const note = signCheckpoint({ origin: logKey.name, size: 3, rootHash: new Uint8Array(32).fill(7), extensions: ['gridshare.org/ledger/v1', 'time 1800000000'] }, logKey);
    expect(openCheckpoint(note, logVerifier).checkpoint.rest).toBe('gridshare.org/ledger/v1\ntime 1800000000\n');
    expect(refusal(() => openCheckpoint(note.replace('time 1800000000', 'time 1800000001'), logVerifier)).reason).toBe('bad_signature');
    expect(refusal(() => formatCheckpoint({ origin: logKey.name, size: 3, rootHash: new Uint8Array(32), extensions: [''] })).message).toMatch(/non-empty single lines/);
    expect(refusal(() => formatCheckpoint({ origin: logKey.name, size: -1, rootHash: new Uint8Array(32) })).reason).toBe('out_of_range');
  });
});

describe('checkpoints with witness cosignatures', () => {
  const log = buildLog();
  const body = formatCheckpoint({ origin: log.origin, size: log.size, rootHash: log.root() });
  const witnessSeed = new Uint8Array(32).fill(5);
  const witness = cosignatureVerifier('witness.example/w1', ed25519PublicKey(witnessSeed));
  const now = 1_800_000_000;

  it('verifies a cosignature, ignores it when opening the log signature, and refuses a forged or future one', () => {
    const note = addSignatureLines(log.checkpoint(), [cosign(body, { name: 'witness.example/w1', seed: witnessSeed }, now - 30)]);
    expect(openCheckpoint(note, logVerifier).checkpoint.size).toBe(log.size);
    expect(checkCosignatures(note, [witness], now)).toEqual([{ witness: 'witness.example/w1', status: 'verified', time: now - 30 }]);

    const future = addSignatureLines(log.checkpoint(), [cosign(body, { name: 'witness.example/w1', seed: witnessSeed }, now + 3600)]);
    expect(checkCosignatures(future, [witness], now)[0]!.status).toBe('future');

    const otherBody = formatCheckpoint({ origin: log.origin, size: log.size - 1, rootHash: log.root(log.size - 1) });
    const misplaced = addSignatureLines(log.checkpoint(), [cosign(otherBody, { name: 'witness.example/w1', seed: witnessSeed }, now)]);
    expect(checkCosignatures(misplaced, [witness], now)[0]!.status).toBe('bad');
    expect(checkCosignatures(log.checkpoint(), [witness], now)[0]!.status).toBe('absent');

    // A witness key given as a type-0x04 verifier key checks the same cosignature.
    const vkey = `witness.example/w1+${witness.keyId.toString(16).padStart(8, '0')}+${Buffer.concat([Buffer.from([4]), ed25519PublicKey(witnessSeed)]).toString('base64')}`;
    expect(checkCosignatures(note, [verifierFromKey(vkey)], now)[0]!.status).toBe('verified');
  });
});
