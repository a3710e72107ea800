import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { describe, expect, it } from 'vitest';
import {
  ENTRY_KINDS, checkCommunitySignature, checkEntrySignatures, commitment, decodeEntry, didKeyFromPublicKey, documentCommitment,
  encodeEntry, flexMessage, marketMovements, marketSettlement, marketTrade, settlementClosed, signEntry, statementCorrected, statementIssued, validateEntry,
  batchInclusionProof, batchRoot, encodeMarketRecord, leafHash, rootFromLeafHashes, toHex, verifyBatchInclusion, type LedgerEntry,
} from '../../src/ledger/domain/index.js';
import { ed25519PublicKey } from '../../src/ledger/domain/crypto.js';
import { SALT, base, member, november, oneOfEachKind, pdf, seed } from './support/entries.js';
import { refusal } from './support/refusal.js';

describe('RFC 8785 canonical JSON (the canonicalize library)', () => {
  it('serialises numbers and strings as the RFC examples do', () => {
    expect(canonicalize({ numbers: [333333333.33333329, 1e30, 4.5, 2e-3, 0.000000000000000000000000001] })).toBe('{"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]}');
    expect(canonicalize({ string: '\u20ac$\u000f\u000aA\'\u0042\u0022\u005c\\"/' })).toBe('{"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
    expect(canonicalize({ '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '1': 'One', '\u0080': 'Control', '\ud83d\ude00': 'Smiley', '\u00f6': 'Latin Small Letter O With Diaeresis', '\ufb33': 'Hebrew Letter Dalet With Dagesh' }))
      .toBe('{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis","€":"Euro Sign","😀":"Smiley","\ufb33":"Hebrew Letter Dalet With Dagesh"}');
  });
});

describe('ledger entries', () => {
  it('has a constructor for every kind, each giving a versioned entry that survives its own bytes', () => {
    const entries = oneOfEachKind();
    expect(entries.map((e) => e.kind)).toEqual([...ENTRY_KINDS]);
    for (const entry of entries) {
      expect(entry).toMatchObject({ v: 1, at: '2026-11-30T12:00:00Z', community: 'sunny-street' });
      const bytes = encodeEntry(entry);
      expect(new TextDecoder().decode(bytes)).toBe(canonicalize(entry));
      expect(decodeEntry(bytes)).toEqual(entry);
    }
  });

  it('holds commitments, never the personal identifiers', () => {
    for (const entry of oneOfEachKind()) {
      const text = new TextDecoder().decode(encodeEntry(entry));
      expect(text).not.toMatch(/member-7f3a|device-77|member-0001/);
    }
    expect(commitment(SALT, 'member-7f3a')).toBe(member);
    expect(commitment(new Uint8Array(32).fill(8), 'member-7f3a')).not.toBe(member);
    expect(() => commitment(new Uint8Array(8), 'x')).toThrow(/at least 16 bytes/);
  });

  it('commits to a document by the SHA-256 of its exact bytes', () => {
    const committed = documentCommitment(pdf, 'application/pdf');
    expect(committed).toEqual({ mediaType: 'application/pdf', sha256: createHash('sha256').update(pdf).digest('hex'), size: pdf.length });
    const oneByteOff = pdf.slice();
    oneByteOff[3] = oneByteOff[3]! ^ 1;
    expect(documentCommitment(oneByteOff, 'application/pdf').sha256).not.toBe(committed.sha256);
  });

  it('refuses bad fields when an entry is made', () => {
    const doc = documentCommitment(pdf, 'application/pdf');
    const make = (overrides: Partial<Parameters<typeof statementIssued>[1]>, when = base) =>
      refusal(() => statementIssued(when, { statement: 'st-1', member, period: november, document: doc, ...overrides })).message;
    expect(make({ member: 'Alice Example' })).toMatch(/entry.member: expected 64 lower-case hex/);
    expect(make({ statement: 'st 1; DROP TABLE' })).toMatch(/entry.statement: expected an identifier/);
    expect(make({ period: { start: november.end, end: november.start } })).toMatch(/start must be before end/);
    expect(make({ document: { ...doc, sha256: doc.sha256.toUpperCase() } })).toMatch(/document.sha256/);
    expect(make({}, { ...base, at: Number.NaN })).toMatch(/entry field at/);
    expect(make({}, { ...base, community: '' })).toMatch(/entry.community/);
    expect(refusal(() => settlementClosed(base, { settlement: 's', period: november, currency: 'EUR', statements: 1, totals: { amount: '1,5' } })).message).toMatch(/totals.amount: expected an exact decimal/);
    expect(refusal(() => settlementClosed(base, { settlement: 's', period: november, currency: 'EUR', statements: 1, totals: { amount: 'NaN' } })).reason).toBe('malformed');
    expect(refusal(() => settlementClosed(base, { settlement: 's', period: november, currency: 'eur', statements: 1, totals: {} })).message).toMatch(/currency/);
    expect(refusal(() => marketTrade(base, { trade: 't', slot: november, buyer: member, seller: member, energyWh: '-5', price: '0.1', currency: 'EUR' })).message).toMatch(/energyWh/);
    expect(refusal(() => statementCorrected(base, { statement: 's', member, period: november, document: doc, corrects: { statement: 's0', sha256: doc.sha256 }, reason: 'The member, Mrs Example, complained' })).message).toMatch(/reason: expected a lower-case code/);
    expect(refusal(() => flexMessage(base, { message: { type: 'FlexRequest', id: 'a', conversation: 'b' }, direction: 'received', sender: 'dso', recipient: 'cem', sha256: 'b'.repeat(64), signer: 'did:key:zDnaeucDGfhXHoJVqot3p21RuupNJ2fZrs8Lb1GV83VnSo2jR' })).message).toMatch(/not an Ed25519 key/);
    const movements = { first: 1, last: 2, currency: 'EUR', total: '0.5', root: 'e'.repeat(64) };
    expect(refusal(() => marketMovements(base, { ...movements, first: 0 })).message).toMatch(/postings: expected 1 ≤ first ≤ last/);
    expect(refusal(() => marketMovements(base, { ...movements, first: 3 })).message).toMatch(/postings: expected 1 ≤ first ≤ last/);
    expect(refusal(() => marketMovements(base, { ...movements, total: '-0.5' })).message).toMatch(/total/);
    expect(refusal(() => marketMovements(base, { ...movements, root: 'E'.repeat(64) })).message).toMatch(/root/);
    const run = { run: 0, slots: november, slotCount: 1, positions: 1, lines: 1, currency: 'EUR', root: 'f'.repeat(64) };
    expect(refusal(() => marketSettlement(base, { ...run, run: -1 })).message).toMatch(/run/);
    expect(refusal(() => marketSettlement(base, { ...run, slots: { start: november.end, end: november.start } })).message).toMatch(/start must be before end/);
  });

  it('proves each market record in its batch\'s tree, and no changed record', () => {
    const records = Array.from({ length: 7 }, (_, i) => new TextEncoder().encode(`{"sequence":${i + 1},"v":1}`));
    const root = batchRoot(records);
    expect(toHex(root)).toBe(toHex(rootFromLeafHashes(records.map(leafHash))));
    for (const [index, record] of records.entries()) verifyBatchInclusion(record, index, records.length, batchInclusionProof(records, index), root);
    expect(() => verifyBatchInclusion(records[1]!, 2, records.length, batchInclusionProof(records, 2), root)).toThrow(/proof/);
    expect(() => verifyBatchInclusion(new TextEncoder().encode('{"sequence":3,"v":2}'), 2, records.length, batchInclusionProof(records, 2), root)).toThrow(/proof/);
    expect(() => batchRoot([])).toThrow(/not empty/);
    expect(() => encodeMarketRecord({ v: 2 } as never)).toThrow(/version 1/);
  });

  it('refuses entries read back that are not exactly what a constructor makes', () => {
    const entry = oneOfEachKind()[0]!;
    const text = canonicalize(entry)!;
    const bytes = (s: string) => new TextEncoder().encode(s);
    expect(refusal(() => decodeEntry(bytes(JSON.stringify(entry, null, 1)))).message).toMatch(/canonical form/);
    expect(refusal(() => decodeEntry(bytes(text.replace('"v":1', '"v":2')))).message).toMatch(/entry version 1/);
    expect(refusal(() => decodeEntry(bytes(text.replace('"v":1', '"name":"Alice","v":1')))).message).toMatch(/entry.name: not a field/);
    expect(refusal(() => decodeEntry(bytes(text.replace('2026-11-30T12:00:00Z', '2026-11-30T12:00:00.000Z')))).message).toMatch(/UTC instant/);
    expect(refusal(() => decodeEntry(bytes(text.replace('"kind":"statement.issued"', '"kind":"statement.deleted"')))).message).toMatch(/kind: expected one of/);
    expect(refusal(() => decodeEntry(bytes(text.slice(0, -1)))).message).toMatch(/not JSON/);
    expect(refusal(() => decodeEntry(new Uint8Array([0xff, 0xfe]))).message).toMatch(/not UTF-8/);
    expect(refusal(() => decodeEntry(bytes('[1,2]'))).message).toMatch(/JSON object/);
    expect(refusal(() => validateEntry({ ...entry, document: undefined })).message).toMatch(/entry.document: missing/);
  });

  it('reports its community signature as valid, absent or refused as bad_signature (changed entry, another key)', () => {
    const entry = oneOfEachKind()[2]!;
    const communityDid = didKeyFromPublicKey(ed25519PublicKey(seed));
    expect(checkCommunitySignature(entry)).toEqual({ status: 'absent' });
    expect(checkCommunitySignature(entry, communityDid)).toEqual({ status: 'absent' });
    const signed = signEntry(entry, seed);
    expect(checkCommunitySignature(signed)).toEqual({ status: 'valid', did: communityDid });
    expect(checkCommunitySignature(signed, communityDid)).toEqual({ status: 'valid', did: communityDid });
    const changed = refusal(() => checkCommunitySignature({ ...signed, at: '2026-12-01T00:00:00Z' } as LedgerEntry, communityDid));
    expect([changed.reason, changed.message]).toEqual(['bad_signature', expect.stringMatching(/community signature invalid: .*does not verify/)]);
    const otherKey = signEntry(entry, new Uint8Array(32).fill(9));
    const byOther = refusal(() => checkCommunitySignature(otherKey, communityDid));
    expect([byOther.reason, byOther.message]).toEqual(['bad_signature', expect.stringContaining(`not by the community's key ${communityDid}`)]);
  });

  it('carries signatures by did:key identities that anyone can check from the entry alone', () => {
    const entry = oneOfEachKind()[4]!;
    const signed = signEntry(signEntry(entry, seed), new Uint8Array(32).fill(4));
    expect(signed.signatures).toHaveLength(2);
    expect(checkEntrySignatures(signed)).toEqual([
      { did: didKeyFromPublicKey(ed25519PublicKey(seed)), valid: true },
      { did: didKeyFromPublicKey(ed25519PublicKey(new Uint8Array(32).fill(4))), valid: true },
    ]);
    expect(decodeEntry(encodeEntry(signed))).toEqual(signed);
    const tampered = { ...signed, action: 'battery-discharge' } as LedgerEntry;
    expect(checkEntrySignatures(tampered).map((s) => s.valid)).toEqual([false, false]);
    const swappedKey = { ...signed, signatures: [{ ...signed.signatures![0]!, did: signed.signatures![1]!.did }] } as LedgerEntry;
    expect(checkEntrySignatures(swappedKey)[0]!.valid).toBe(false);
  });
});
